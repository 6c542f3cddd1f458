// The sign-out just made, kept across the jump to the next case so that its signer can
// recall it while the recall window is open.
import { create } from "zustand";

export interface LastSigned {
  reportId: number;
  accession: string;
  version: number;
  recallUntil: string;
}

interface LastSignedStore {
  last: LastSigned | null;
  recalled: string | null;
  remember: (signed: LastSigned) => void;
  markRecalled: (accession: string) => void;
  forget: () => void;
}

export const useLastSigned = create<LastSignedStore>((set) => ({
  last: null,
  recalled: null,
  remember: (last) => set({ last, recalled: null }),
  markRecalled: (accession) => set({ last: null, recalled: accession }),
  forget: () => set({ last: null, recalled: null }),
}));
