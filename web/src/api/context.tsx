import { type ComponentChildren, createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Config } from "../config";
import type { Api } from "./client";

interface Services {
  config: Config;
  api: Api;
}

const Context = createContext<Services | null>(null);

export function ServicesProvider({
  value,
  children,
}: {
  value: Services;
  children: ComponentChildren;
}) {
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useServices(): Services {
  const services = useContext(Context);
  if (!services) throw new Error("useServices outside ServicesProvider");
  return services;
}
