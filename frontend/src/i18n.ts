// UI strings in English and Chinese, language detection and a small React context.
import {
  createContext,
  createElement,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
} from "react";
import type { ReactNode } from "react";

export type Lang = "en" | "zh";
export const LANGS: readonly Lang[] = ["en", "zh"];
export const LANG_STORAGE_KEY = "pathflow.lang";

const en = {
  "app.title": "Pathflow",
  "app.tagline": "Pathology report orchestrator",
  "lang.label": "Language",
  "lang.en": "English",
  "lang.zh": "中文",
  "user.signedInAs": "Signed in as",
  "user.signOut": "Sign out",
  "user.unknown": "Unknown user",
  "runs.heading": "Runs",
  "runs.caption": "Recent workflow runs in {department}",
  "runs.captionNoDept": "Recent workflow runs",
  "runs.loading": "Loading runs…",
  "runs.redirecting": "Redirecting to sign in…",
  "runs.empty": "No runs yet",
  "runs.errorTitle": "Could not load runs",
  "runs.refreshError": "Refresh failed: {message}",
  "runs.retry": "Try again",
  "runs.refresh": "Refresh",
  "runs.autoRefresh": "Auto-refreshing every 3 s while runs are active",
  "runs.shown": "Showing {shown} of {count}",
  "col.case": "Case",
  "col.workflow": "Workflow",
  "col.status": "Status",
  "col.created": "Created",
  "col.duration": "Duration",
  "col.report": "Report",
  "runs.pdf": "PDF",
  "runs.pdfLabel": "Report PDF for {accession} (opens in a new tab)",
  "runs.noReport": "No report",
  "runs.expand": "Show steps of {accession}",
  "runs.collapse": "Hide steps of {accession}",
  "runs.runError": "Run error",
  "runs.workflowVersion": "v{version}",
  "nodes.caption": "Steps of run {id}",
  "nodes.empty": "No steps recorded",
  "nodes.node": "Step",
  "nodes.type": "Type",
  "nodes.status": "Status",
  "nodes.attempt": "Attempt",
  "nodes.duration": "Duration",
  "nodes.error": "Error",
  "status.queued": "Queued",
  "status.running": "Running",
  "status.waiting_review": "Waiting for review",
  "status.succeeded": "Succeeded",
  "status.failed": "Failed",
  "status.cancelled": "Cancelled",
  "status.pending": "Pending",
  "status.skipped": "Skipped",
  "status.waiting": "Waiting for a person",
  "runs.details": "Details",
  "runs.detailsLabel": "Open run {id} of {accession}",
  "detail.back": "← All runs",
  "detail.heading": "Run {id}",
  "detail.loading": "Loading run…",
  "detail.errorTitle": "Could not load this run",
  "detail.case": "Case",
  "detail.workflow": "Workflow",
  "detail.template": "Report template",
  "detail.requestedBy": "Requested by",
  "detail.created": "Created",
  "detail.duration": "Duration",
  "detail.report": "Report",
  "detail.draftVersion": "draft",
  "detail.test": "Test run",
  "detail.testHint": "Test run of a draft: never delivered; its report stays a draft.",
  "detail.rerunOf": "Re-run of run {id} from step {node}",
  "detail.cancel": "Cancel run",
  "detail.confirmCancel": "Stop this run? Steps that are running are cancelled.",
  "detail.confirmYes": "Yes, cancel the run",
  "detail.confirmNo": "Keep it running",
  "detail.cancelRequested": "Cancellation requested by {user}; running steps stop within a second.",
  "detail.live": "Live: updating every second",
  "detail.steps": "Steps",
  "detail.attempt": "Attempt {n}",
  "detail.attempts": "{n} attempts",
  "detail.inputs": "Inputs",
  "detail.outputs": "Outputs",
  "detail.withheld": "Inputs and outputs hold case data: only admins and pathologists see them.",
  "detail.reused": "Reused from run {id}",
  "detail.rerunFrom": "Re-run from here",
  "detail.rerunLabel": "Re-run from step {node}",
  "detail.notRun": "Not run",
  "detail.actionError": "Action failed: {message}",
} as const;

export type MessageKey = keyof typeof en;

const zh: Record<MessageKey, string> = {
  "app.title": "Pathflow",
  "app.tagline": "病理报告编排",
  "lang.label": "语言",
  "lang.en": "English",
  "lang.zh": "中文",
  "user.signedInAs": "当前用户",
  "user.signOut": "退出登录",
  "user.unknown": "未知用户",
  "runs.heading": "运行记录",
  "runs.caption": "最近的工作流运行（{department}）",
  "runs.captionNoDept": "最近的工作流运行",
  "runs.loading": "正在加载运行记录…",
  "runs.redirecting": "正在跳转到登录页…",
  "runs.empty": "暂无运行记录",
  "runs.errorTitle": "无法加载运行记录",
  "runs.refreshError": "刷新失败：{message}",
  "runs.retry": "重试",
  "runs.refresh": "刷新",
  "runs.autoRefresh": "有运行进行中，每 3 秒自动刷新",
  "runs.shown": "显示 {shown} / 共 {count} 条",
  "col.case": "病例号",
  "col.workflow": "工作流",
  "col.status": "状态",
  "col.created": "创建时间",
  "col.duration": "耗时",
  "col.report": "报告",
  "runs.pdf": "PDF",
  "runs.pdfLabel": "{accession} 的报告 PDF（在新标签页打开）",
  "runs.noReport": "无报告",
  "runs.expand": "展开 {accession} 的步骤",
  "runs.collapse": "收起 {accession} 的步骤",
  "runs.runError": "运行错误",
  "runs.workflowVersion": "v{version}",
  "nodes.caption": "运行 {id} 的步骤",
  "nodes.empty": "没有步骤记录",
  "nodes.node": "步骤",
  "nodes.type": "类型",
  "nodes.status": "状态",
  "nodes.attempt": "尝试次数",
  "nodes.duration": "耗时",
  "nodes.error": "错误",
  "status.queued": "排队中",
  "status.running": "运行中",
  "status.waiting_review": "待审核",
  "status.succeeded": "成功",
  "status.failed": "失败",
  "status.cancelled": "已取消",
  "status.pending": "等待中",
  "status.skipped": "已跳过",
  "status.waiting": "等待人工处理",
  "runs.details": "详情",
  "runs.detailsLabel": "打开 {accession} 的运行 {id}",
  "detail.back": "← 全部运行记录",
  "detail.heading": "运行 {id}",
  "detail.loading": "正在加载运行…",
  "detail.errorTitle": "无法加载此运行",
  "detail.case": "病例号",
  "detail.workflow": "工作流",
  "detail.template": "报告模板",
  "detail.requestedBy": "发起人",
  "detail.created": "创建时间",
  "detail.duration": "耗时",
  "detail.report": "报告",
  "detail.draftVersion": "草稿",
  "detail.test": "测试运行",
  "detail.testHint": "草稿的测试运行：不会发送，报告始终为草稿。",
  "detail.rerunOf": "重新运行自运行 {id} 的步骤 {node}",
  "detail.cancel": "取消运行",
  "detail.confirmCancel": "停止此运行？正在执行的步骤将被取消。",
  "detail.confirmYes": "确认取消运行",
  "detail.confirmNo": "继续运行",
  "detail.cancelRequested": "{user} 已请求取消；正在执行的步骤将在一秒内停止。",
  "detail.live": "实时：每秒更新",
  "detail.steps": "步骤",
  "detail.attempt": "第 {n} 次尝试",
  "detail.attempts": "{n} 次尝试",
  "detail.inputs": "输入",
  "detail.outputs": "输出",
  "detail.withheld": "输入和输出含病例数据：仅科室管理员和病理医生可见。",
  "detail.reused": "沿用运行 {id} 的结果",
  "detail.rerunFrom": "从此步骤重新运行",
  "detail.rerunLabel": "从步骤 {node} 重新运行",
  "detail.notRun": "未运行",
  "detail.actionError": "操作失败：{message}",
};

export const messages: Record<Lang, Record<MessageKey, string>> = { en, zh };

export type Params = Record<string, string | number>;

export function isLang(value: unknown): value is Lang {
  return value === "en" || value === "zh";
}

/** Look up a string and fill `{name}` placeholders; missing keys fall back to English, then the key. */
export function translate(lang: Lang, key: string, params?: Params): string {
  const table: Record<string, string> = messages[lang];
  const english: Record<string, string> = messages.en;
  const template = table[key] ?? english[key] ?? key;
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

/** A run or node status label, the raw status when it is not a known one. */
export function statusLabel(lang: Lang, status: string): string {
  const key = `status.${status}`;
  const english: Record<string, string> = messages.en;
  return key in english ? translate(lang, key) : status;
}

/** Stored choice first, else the browser language (zh-* → zh), else English. */
export function detectLang(stored: string | null, navigatorLanguages: readonly string[]): Lang {
  if (isLang(stored)) return stored;
  for (const tag of navigatorLanguages) {
    const primary = tag.toLowerCase().split("-")[0];
    if (isLang(primary)) return primary;
  }
  return "en";
}

/** The BCP 47 locale used for dates: the browser's own when it matches the UI language. */
export function localeFor(lang: Lang, navigatorLanguage: string | undefined): string {
  if (navigatorLanguage && navigatorLanguage.toLowerCase().split("-")[0] === lang) {
    return navigatorLanguage;
  }
  return lang === "zh" ? "zh-CN" : "en-GB";
}

function readStoredLang(): string | null {
  try {
    return window.localStorage.getItem(LANG_STORAGE_KEY);
  } catch {
    return null;
  }
}

function browserLanguages(): readonly string[] {
  if (typeof navigator === "undefined") return [];
  if (navigator.languages && navigator.languages.length > 0) return navigator.languages;
  return navigator.language ? [navigator.language] : [];
}

export function initialLang(): Lang {
  return detectLang(readStoredLang(), browserLanguages());
}

export interface I18n {
  lang: Lang;
  locale: string;
  setLang: (lang: Lang) => void;
  t: (key: MessageKey, params?: Params) => string;
}

const I18nContext = createContext<I18n | null>(null);

export function I18nProvider(props: { children: ReactNode; initial?: Lang }) {
  const [lang, setLangState] = useState<Lang>(() => props.initial ?? initialLang());

  const setLang = useCallback((next: Lang) => {
    setLangState(next);
    try {
      window.localStorage.setItem(LANG_STORAGE_KEY, next);
    } catch {
      // Private mode or storage disabled: the choice lasts for this page only.
    }
  }, []);

  useEffect(() => {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  }, [lang]);

  const value = useMemo<I18n>(
    () => ({
      lang,
      locale: localeFor(lang, typeof navigator === "undefined" ? undefined : navigator.language),
      setLang,
      t: (key, params) => translate(lang, key, params),
    }),
    [lang, setLang],
  );

  return createElement(I18nContext.Provider, { value }, props.children);
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (!value) throw new Error("useI18n must be used inside <I18nProvider>");
  return value;
}
