// A figure's table with its CSV download (the same rows, from the API's ?format=csv).
import type { ReactNode } from "react";
import { useI18n } from "../i18n";

export interface Column<R> {
  key: string;
  label: string;
  value: (row: R) => ReactNode;
  numeric?: boolean;
}

export function DataTable<R>(props: {
  caption: string;
  columns: readonly Column<R>[];
  rows: readonly R[];
  csv: string;
  testId: string;
}) {
  const { t } = useI18n();
  return (
    <div className="dash-table" data-testid={props.testId}>
      <div className="dash-table__head">
        <span className="dash-table__caption">{props.caption}</span>
        <a href={props.csv} download className="dash-csv">
          {t("dash.csv")}
        </a>
      </div>
      {props.rows.length === 0 ? (
        <p className="state state--empty">{t("dash.empty")}</p>
      ) : (
        <div className="table-scroll">
          <table>
            <caption className="visually-hidden">{props.caption}</caption>
            <thead>
              <tr>
                {props.columns.map((c) => (
                  <th key={c.key} scope="col" className={c.numeric ? "num" : undefined}>
                    {c.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {props.rows.map((row, index) => (
                <tr key={index}>
                  {props.columns.map((c) => (
                    <td key={c.key} className={c.numeric ? "num" : undefined}>
                      {c.value(row)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
