import { useEffect, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { useI18n } from "../i18n";
import { useAuth } from ".";

/** Where the provider sends the browser back: the code is traded, then the fan goes on. */
export function Callback() {
  const { manager } = useAuth();
  const { route } = useLocation();
  const { t } = useI18n();
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    manager
      .signinRedirectCallback()
      .then((user) => {
        const state = user.state as { returnTo?: string } | undefined;
        route(state?.returnTo ?? "/", true);
      })
      .catch(() => setFailed(true));
  }, [manager, route]);
  return failed ? (
    <section class="problem" role="alert">
      <p>{t.signInFailed}</p>
      <a href="/">{t.backToEvents}</a>
    </section>
  ) : (
    <p>{t.signingIn}</p>
  );
}
