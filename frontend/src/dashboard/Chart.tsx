// One ECharts chart, drawn as SVG (crisp when printed, its text readable by assistive tools
// and tests). Only the chart types and components the dashboard uses are bundled.
import { BarChart, BoxplotChart, LineChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import { init, use as registerEcharts } from "echarts/core";
import type { EChartsCoreOption, EChartsType } from "echarts/core";
import { SVGRenderer } from "echarts/renderers";
import { useEffect, useRef } from "react";

registerEcharts([BarChart, BoxplotChart, LineChart, GridComponent, LegendComponent, TooltipComponent, SVGRenderer]);

export function Chart({ option, label, testId }: { option: EChartsCoreOption; label: string; testId: string }) {
  const element = useRef<HTMLDivElement>(null);
  const chart = useRef<EChartsType | null>(null);

  useEffect(() => {
    const node = element.current;
    if (!node) return;
    const created = init(node, undefined, { renderer: "svg" });
    chart.current = created;
    const observer = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(() => created.resize());
    observer?.observe(node);
    return () => {
      observer?.disconnect();
      created.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    chart.current?.setOption(option, { notMerge: true });
  }, [option]);

  return <div ref={element} className="dash-chart" role="img" aria-label={label} data-testid={testId} />;
}
