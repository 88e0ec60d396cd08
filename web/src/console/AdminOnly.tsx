import type { User } from "oidc-client-ts";
import type { ComponentChildren } from "preact";
import { useAuth } from "../auth";
import { SignInFirst } from "../auth/SignInFirst";
import { useI18n } from "../i18n";

/** Whether the ID token puts its holder in the organisers' group (`cognito:groups`). */
export function isAdmin(user: User | null): boolean {
  const groups = user?.profile["cognito:groups"];
  return Array.isArray(groups) && groups.includes("admin");
}

/** The console's pages for organisers only: others are told so, and the API refuses them too. */
export function AdminOnly({ children }: { children: ComponentChildren }) {
  const { t } = useI18n();
  const { user, sub } = useAuth();
  if (!sub) return <SignInFirst title={t.console.title} />;
  if (!isAdmin(user)) {
    return (
      <section>
        <h1>{t.console.title}</h1>
        <p class="problem" role="alert">
          {t.console.refused}
        </p>
        <a href="/">{t.backToEvents}</a>
      </section>
    );
  }
  return <>{children}</>;
}
