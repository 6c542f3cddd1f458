// Sign-outs in flight and just made, kept across the jump to the next case: the cockpit opens
// the next case as soon as the password is given, the sign-out finishes here (its answer
// takes the password check and the signed PDF's render), and the banner says how it went —
// with Recall while the window is open, or why it was not signed.
import { create } from "zustand";
import { ApiError, dataOf } from "../api/client";
import type { Api } from "../api/client";

export interface LastSigned {
  reportId: number;
  accession: string;
  version: number;
  recallUntil: string;
}

export interface SignFailure {
  reportId: number;
  accession: string;
  message: string;
  problems: readonly string[];
}

interface LastSignedStore {
  /** Drafts whose sign-out was sent and has not failed: never offered as the next case. */
  submitted: ReadonlySet<number>;
  pending: { reportId: number; accession: string } | null;
  last: LastSigned | null;
  failed: SignFailure | null;
  recalled: string | null;
  /** Sign ``reportId`` in the background; ``onSigned`` runs once it is signed. */
  signInBackground: (
    api: Api,
    draft: { reportId: number; accession: string },
    password: string,
    onSigned?: () => void,
  ) => Promise<void>;
  remember: (signed: LastSigned) => void;
  markRecalled: (accession: string) => void;
  forget: () => void;
}

export const useLastSigned = create<LastSignedStore>((set) => ({
  submitted: new Set(),
  pending: null,
  last: null,
  failed: null,
  recalled: null,
  signInBackground: async (api, draft, password, onSigned) => {
    set((s) => ({
      submitted: new Set(s.submitted).add(draft.reportId),
      pending: draft,
      failed: null,
      recalled: null,
    }));
    try {
      const signed = dataOf(
        await api.POST("/api/v1/review/reports/{id}/sign", {
          params: { path: { id: draft.reportId } },
          body: { password },
        }),
      );
      set({
        pending: null,
        last: {
          reportId: signed.report_id,
          accession: draft.accession,
          version: signed.version,
          recallUntil: signed.recall_until,
        },
      });
      onSigned?.();
    } catch (error) {
      set((s) => {
        const submitted = new Set(s.submitted);
        submitted.delete(draft.reportId);
        return {
          submitted,
          pending: null,
          failed: {
            ...draft,
            message: error instanceof Error ? error.message : String(error),
            problems: error instanceof ApiError ? error.problems : [],
          },
        };
      });
    }
  },
  remember: (last) => set({ last, recalled: null }),
  markRecalled: (accession) => set({ last: null, recalled: accession }),
  forget: () => set({ last: null, recalled: null }),
}));
