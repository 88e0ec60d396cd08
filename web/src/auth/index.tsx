// Sign-in: OAuth 2.0 authorization code with PKCE through oidc-client-ts, against Cognito in AWS
// and the local issuer on the local stack (the config names which). Tokens stay in this tab's
// session storage; the API gets the ID token, as its JWT authorizer expects.

import { type User, UserManager, WebStorageStateStore } from "oidc-client-ts";
import { type ComponentChildren, createContext } from "preact";
import { useContext, useEffect, useMemo, useState } from "preact/hooks";
import type { Config } from "../config";

export interface Auth {
  user: User | null;
  /** The signed-in customer's id (`sub`). */
  sub: string | null;
  signIn: (returnTo?: string) => Promise<void>;
  signOut: () => Promise<void>;
  manager: UserManager;
}

const Context = createContext<Auth | null>(null);

export function userManager(config: Config): UserManager {
  const store = new WebStorageStateStore({ store: window.sessionStorage });
  return new UserManager({
    authority: config.issuer,
    client_id: config.client_id,
    redirect_uri: `${window.location.origin}/callback`,
    post_logout_redirect_uri: `${window.location.origin}/`,
    response_type: "code",
    scope: "openid email",
    userStore: store,
    stateStore: store,
    loadUserInfo: false,
    automaticSilentRenew: false,
  });
}

/** The ID token of the signed-in user, for the API client. */
export async function idToken(manager: UserManager): Promise<string | null> {
  const user = await manager.getUser();
  return user && !user.expired ? (user.id_token ?? null) : null;
}

export function AuthProvider({
  manager,
  children,
}: {
  manager: UserManager;
  children: ComponentChildren;
}) {
  const [user, setUser] = useState<User | null>(null);
  useEffect(() => {
    void manager.getUser().then((u) => setUser(u && !u.expired ? u : null));
    const loaded = (u: User) => setUser(u);
    const unloaded = () => setUser(null);
    manager.events.addUserLoaded(loaded);
    manager.events.addUserUnloaded(unloaded);
    return () => {
      manager.events.removeUserLoaded(loaded);
      manager.events.removeUserUnloaded(unloaded);
    };
  }, [manager]);
  const value = useMemo<Auth>(
    () => ({
      user,
      sub: user?.profile.sub ?? null,
      manager,
      signIn: (returnTo) =>
        manager.signinRedirect({
          state: { returnTo: returnTo ?? window.location.pathname + window.location.search },
        }),
      signOut: async () => {
        await manager.removeUser();
        setUser(null);
      },
    }),
    [user, manager],
  );
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(Context);
  if (!auth) throw new Error("useAuth outside AuthProvider");
  return auth;
}
