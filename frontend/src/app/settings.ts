// Settings the whole app shares that tests change (poll intervals).
import { createContext, useContext } from "react";

export interface AppSettings {
  /** Overrides every polling interval (tests use a few milliseconds). */
  pollMs?: number | undefined;
}

const SettingsContext = createContext<AppSettings>({});
export const SettingsProvider = SettingsContext.Provider;

/** The polling interval: the app's override, else `fallback`. */
export function usePollMs(fallback: number): number {
  return useContext(SettingsContext).pollMs ?? fallback;
}
