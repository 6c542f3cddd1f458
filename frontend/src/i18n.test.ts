import { describe, expect, it } from "vitest";
import { detectLang, localeFor, messages, statusLabel, translate } from "./i18n";

describe("translate", () => {
  it("looks up English and Chinese strings", () => {
    expect(translate("en", "runs.empty")).toBe("No runs yet");
    expect(translate("zh", "runs.empty")).toBe("暂无运行记录");
    expect(translate("zh", "user.signOut")).toBe("退出登录");
  });

  it("fills placeholders", () => {
    expect(translate("en", "runs.refreshError", { message: "boom" })).toBe("Refresh failed: boom");
    expect(translate("zh", "runs.shown", { shown: 50, count: 120 })).toBe("显示 50 / 共 120 条");
    expect(translate("en", "runs.refreshError")).toBe("Refresh failed: {message}");
  });

  it("falls back to the key when a string is unknown", () => {
    expect(translate("zh", "no.such.key")).toBe("no.such.key");
  });

  it("has every English key in Chinese, none empty", () => {
    expect(Object.keys(messages.zh).sort()).toEqual(Object.keys(messages.en).sort());
    for (const value of Object.values(messages.zh)) expect(value.trim()).not.toBe("");
  });
});

describe("statusLabel", () => {
  it("labels run and node statuses", () => {
    expect(statusLabel("en", "waiting_review")).toBe("Waiting for review");
    expect(statusLabel("zh", "failed")).toBe("失败");
    expect(statusLabel("zh", "skipped")).toBe("已跳过");
    expect(statusLabel("zh", "mystery")).toBe("mystery");
  });
});

describe("detectLang", () => {
  it("prefers a stored choice", () => {
    expect(detectLang("zh", ["en-US"])).toBe("zh");
    expect(detectLang("en", ["zh-CN"])).toBe("en");
  });

  it("uses the browser language otherwise", () => {
    expect(detectLang(null, ["zh-CN", "en"])).toBe("zh");
    expect(detectLang(null, ["zh-Hant-TW"])).toBe("zh");
    expect(detectLang(null, ["fr-FR", "zh"])).toBe("zh");
    expect(detectLang("klingon", ["en-US"])).toBe("en");
    expect(detectLang(null, ["fr-FR"])).toBe("en");
    expect(detectLang(null, [])).toBe("en");
  });
});

describe("localeFor", () => {
  it("keeps the browser locale when it matches the UI language", () => {
    expect(localeFor("en", "en-US")).toBe("en-US");
    expect(localeFor("zh", "zh-TW")).toBe("zh-TW");
    expect(localeFor("zh", "en-US")).toBe("zh-CN");
    expect(localeFor("en", undefined)).toBe("en-GB");
  });
});
