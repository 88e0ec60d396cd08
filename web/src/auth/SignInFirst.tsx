import { useI18n } from "../i18n";
import { useAuth } from ".";

/** What a page that is the fan's own shows before they sign in. */
export function SignInFirst({ title }: { title?: string }) {
  const { t } = useI18n();
  const { signIn } = useAuth();
  return (
    <section>
      {title && <h1>{title}</h1>}
      <p>{t.signInRequired}</p>
      <button type="button" onClick={() => void signIn()}>
        {t.signIn}
      </button>
    </section>
  );
}
