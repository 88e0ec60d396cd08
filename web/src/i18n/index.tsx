import { type ComponentChildren, createContext } from "preact";
import { useContext, useMemo, useState } from "preact/hooks";
import { en } from "./en";
import type { Messages } from "./messages";
import { ptBR } from "./pt-BR";

export type Locale = "pt-BR" | "en";
export const LOCALES: Record<Locale, { label: string; messages: Messages }> = {
  "pt-BR": { label: "Português", messages: ptBR },
  en: { label: "English", messages: en },
};
const STORED = "bilheteria.locale";

interface I18n {
  locale: Locale;
  t: Messages;
  setLocale: (locale: Locale) => void;
}

const Context = createContext<I18n>({ locale: "pt-BR", t: ptBR, setLocale: () => {} });

function initial(): Locale {
  const stored = localStorage.getItem(STORED);
  return stored === "en" || stored === "pt-BR" ? stored : "pt-BR";
}

export function I18nProvider({ children }: { children: ComponentChildren }) {
  const [locale, set] = useState<Locale>(initial);
  const value = useMemo<I18n>(
    () => ({
      locale,
      t: LOCALES[locale].messages,
      setLocale: (next) => {
        localStorage.setItem(STORED, next);
        document.documentElement.lang = next;
        set(next);
      },
    }),
    [locale],
  );
  document.documentElement.lang = locale;
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useI18n(): I18n {
  return useContext(Context);
}
