// Strings of the slide viewer ("viewer.*", also passed to SlideViewer as plain `labels`) and
// of the case slides page ("slides.*").
import { defineStrings } from "../lib/uiStrings";
import type { Lang, StringsOf } from "../lib/uiStrings";

export const strings = defineStrings({
  en: {
    "viewer.region": "Slide viewer",
    "viewer.loading": "Loading slide…",
    "viewer.openFailed": "The slide could not be opened",
    "viewer.zoomIn": "Zoom in",
    "viewer.zoomOut": "Zoom out",
    "viewer.home": "Whole slide",
    "viewer.overlayShow": "Show AI overlay",
    "viewer.overlayHide": "Hide AI overlay",
    "viewer.overlayShortcut": "Press O in the viewer to show or hide the AI overlay",
    "viewer.overlayZoomIn": "Zoom in to see the nuclei the AI found",
    "viewer.overlayLoading": "Analysing the visible area…",
    "viewer.overlayFailed": "The AI overlay could not be loaded",
    "viewer.overlayCounts": "{positive} of {total} nuclei DAB-positive in view",
    "viewer.positive": "DAB-positive nucleus",
    "viewer.negative": "Negative nucleus",
    "viewer.analysedRegion": "Region the workflow's model analysed",
    "slides.heading": "Slides of case {accession}",
    "slides.headingNoCase": "Slides",
    "slides.loading": "Loading slides…",
    "slides.errorTitle": "Could not load the slides",
    "slides.retry": "Try again",
    "slides.empty": "No whole-slide image is attached to this case.",
    "slides.choose": "Slides",
    "slides.specimen": "Specimen {label}",
    "slides.size": "{width} × {height} px",
    "slides.mpp": "{mpp} µm/px",
    "slides.unavailable": "Unavailable: {reason}",
  },
  zh: {
    "viewer.region": "切片查看器",
    "viewer.loading": "正在加载切片…",
    "viewer.openFailed": "无法打开切片",
    "viewer.zoomIn": "放大",
    "viewer.zoomOut": "缩小",
    "viewer.home": "全片",
    "viewer.overlayShow": "显示 AI 标注",
    "viewer.overlayHide": "隐藏 AI 标注",
    "viewer.overlayShortcut": "在查看器中按 O 键显示或隐藏 AI 标注",
    "viewer.overlayZoomIn": "放大后可查看 AI 识别的细胞核",
    "viewer.overlayLoading": "正在分析可见区域…",
    "viewer.overlayFailed": "无法加载 AI 标注",
    "viewer.overlayCounts": "视野内 {total} 个细胞核中 {positive} 个 DAB 阳性",
    "viewer.positive": "DAB 阳性细胞核",
    "viewer.negative": "阴性细胞核",
    "viewer.analysedRegion": "工作流模型分析的区域",
    "slides.heading": "病例 {accession} 的切片",
    "slides.headingNoCase": "切片",
    "slides.loading": "正在加载切片…",
    "slides.errorTitle": "无法加载切片",
    "slides.retry": "重试",
    "slides.empty": "此病例没有全切片图像。",
    "slides.choose": "切片",
    "slides.specimen": "标本 {label}",
    "slides.size": "{width} × {height} 像素",
    "slides.mpp": "{mpp} 微米/像素",
    "slides.unavailable": "不可用：{reason}",
  },
});

declare module "../i18n" {
  interface Messages extends StringsOf<typeof strings> {}
}

type ViewerKey = Extract<keyof (typeof strings)["en"], `viewer.${string}`>;
type ShortName<K> = K extends `viewer.${infer Name}` ? Name : never;

/** The viewer's labels by short name ("zoomIn"), as SlideViewer's `labels` prop takes them. */
export type ViewerLabels = { readonly [K in ViewerKey as ShortName<K>]: string };

/** The viewer's labels in `lang`. */
export function viewerLabels(lang: Lang): ViewerLabels {
  const entries = Object.entries(strings[lang])
    .filter(([key]) => key.startsWith("viewer."))
    .map(([key, value]) => [key.slice("viewer.".length), value] as const);
  return Object.fromEntries(entries) as ViewerLabels;
}

/** `template` with each `{name}` replaced by its value. */
export function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in values ? String(values[name]) : whole,
  );
}
