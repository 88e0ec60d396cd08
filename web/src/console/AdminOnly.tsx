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
  return (
    <GroupOnly allowed={isAdmin} title={t.console.title} refused={t.console.refused}>
      {children}
    </GroupOnly>
  );
}

/** Pages for the users `allowed` lets in (by their groups): others are asked to sign in, or
 *  told the page is not theirs. */
export function GroupOnly({
  allowed,
  title,
  refused,
  children,
}: {
  allowed: (user: User | null) => boolean;
  title: string;
  refused: string;
  children: ComponentChildren;
}) {
  const { t } = useI18n();
  const { user, sub } = useAuth();
  if (!sub) return <SignInFirst title={title} />;
  if (!allowed(user)) {
    return (
      <section>
        <h1>{title}</h1>
        <p class="problem" role="alert">
          {refused}
        </p>
        <a href="/">{t.backToEvents}</a>
      </section>
    );
  }
  return <>{children}</>;
}
