// Strings of the app shell (header, navigation, not-found page) and statuses every screen shows.
import { defineStrings } from "../lib/uiStrings";
import type { StringsOf } from "../lib/uiStrings";

export const strings = defineStrings({
  en: {
    "app.title": "Pathflow",
    "app.tagline": "Pathology report orchestrator",
    "lang.label": "Language",
    "lang.en": "English",
    "lang.zh": "中文",
    "user.signedInAs": "Signed in as",
    "user.signOut": "Sign out",
    "user.unknown": "Unknown user",
    "status.queued": "Queued",
    "status.running": "Running",
    "status.waiting_review": "Waiting for review",
    "status.waiting_render": "Waiting for rendering",
    "status.succeeded": "Succeeded",
    "status.failed": "Failed",
    "status.cancelled": "Cancelled",
    "status.pending": "Pending",
    "status.skipped": "Skipped",
    "status.waiting": "Waiting for a person",
    "nav.label": "Main",
    "page.loading": "Loading…",
    "notFound.heading": "Page not found",
    "notFound.body": "There is no page at {path}.",
    "notFound.home": "Go to your start page",
    "notFound.forbiddenHeading": "Not available to your role",
    "notFound.forbidden": "Your role may not open {path}.",
  },
  zh: {
    "app.title": "Pathflow",
    "app.tagline": "病理报告编排",
    "lang.label": "语言",
    "lang.en": "English",
    "lang.zh": "中文",
    "user.signedInAs": "当前用户",
    "user.signOut": "退出登录",
    "user.unknown": "未知用户",
    "status.queued": "排队中",
    "status.running": "运行中",
    "status.waiting_review": "待审核",
    "status.waiting_render": "等待渲染",
    "status.succeeded": "成功",
    "status.failed": "失败",
    "status.cancelled": "已取消",
    "status.pending": "等待中",
    "status.skipped": "已跳过",
    "status.waiting": "等待人工处理",
    "nav.label": "主导航",
    "page.loading": "正在加载…",
    "notFound.heading": "页面不存在",
    "notFound.body": "{path} 没有对应的页面。",
    "notFound.home": "前往起始页",
    "notFound.forbiddenHeading": "您的角色无权访问",
    "notFound.forbidden": "您的角色无权打开 {path}。",
  },
});

declare module "../i18n" {
  interface Messages extends StringsOf<typeof strings> {}
}
