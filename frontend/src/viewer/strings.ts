// The slide viewer's labels in English and Chinese. The viewer takes a `labels` prop so a host
// page with its own i18n can pass them; these are the defaults by language.

export type ViewerLang = "en" | "zh";

// A type alias (not an interface) so it is assignable to Record<string, string>.
export type ViewerLabels = {
  region: string;
  loading: string;
  openFailed: string;
  zoomIn: string;
  zoomOut: string;
  home: string;
  overlayShow: string;
  overlayHide: string;
  overlayShortcut: string;
  overlayZoomIn: string;
  overlayLoading: string;
  overlayFailed: string;
  overlayCounts: string;
  positive: string;
  negative: string;
  analysedRegion: string;
};

export const viewerStrings: Record<ViewerLang, ViewerLabels> = {
  en: {
    region: "Slide viewer",
    loading: "Loading slide…",
    openFailed: "The slide could not be opened",
    zoomIn: "Zoom in",
    zoomOut: "Zoom out",
    home: "Whole slide",
    overlayShow: "Show AI overlay",
    overlayHide: "Hide AI overlay",
    overlayShortcut: "Press O in the viewer to show or hide the AI overlay",
    overlayZoomIn: "Zoom in to see the nuclei the AI found",
    overlayLoading: "Analysing the visible area…",
    overlayFailed: "The AI overlay could not be loaded",
    overlayCounts: "{positive} of {total} nuclei DAB-positive in view",
    positive: "DAB-positive nucleus",
    negative: "Negative nucleus",
    analysedRegion: "Region the workflow's model analysed",
  },
  zh: {
    region: "切片查看器",
    loading: "正在加载切片…",
    openFailed: "无法打开切片",
    zoomIn: "放大",
    zoomOut: "缩小",
    home: "全片",
    overlayShow: "显示 AI 标注",
    overlayHide: "隐藏 AI 标注",
    overlayShortcut: "在查看器中按 O 键显示或隐藏 AI 标注",
    overlayZoomIn: "放大后可查看 AI 识别的细胞核",
    overlayLoading: "正在分析可见区域…",
    overlayFailed: "无法加载 AI 标注",
    overlayCounts: "视野内 {total} 个细胞核中 {positive} 个 DAB 阳性",
    positive: "DAB 阳性细胞核",
    negative: "阴性细胞核",
    analysedRegion: "工作流模型分析的区域",
  },
};

/** `template` with each `{name}` replaced by its value. */
export function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in values ? String(values[name]) : whole,
  );
}
