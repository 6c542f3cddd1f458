// The problems a refused request listed (a 400 lists them all), or its message.
import { ApiError } from "../api/client";

export function problemsOf(error: unknown): string[] {
  if (error instanceof ApiError) return error.problems.length ? [...error.problems] : [error.message];
  if (error instanceof Error) return [error.message];
  if (!error) return [];
  return [typeof error === "string" ? error : JSON.stringify(error)];
}

export function Problems({ title, error }: { title: string; error: unknown }) {
  const problems = problemsOf(error);
  if (problems.length === 0) return null;
  return (
    <div className="problems" role="alert">
      <p>{title}</p>
      <ul>
        {problems.map((p) => (
          <li key={p}>{p}</li>
        ))}
      </ul>
    </div>
  );
}
