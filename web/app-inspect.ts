// One set of dropped files, looked at: the models found in it (app-models.ts), what the other
// files are for (app-data.ts), what must still be asked, and what is refused. The worker keeps a
// Session per drop; the page shows its Inspection. Pure: no DOM, no node:*.

import { countParams, summary } from '../src/model/summary.js';
import { fmtShape } from '../src/model/errors.js';
import type { ModelSpec, Warning } from '../src/model/types.js';
import type { AnalyzeInput } from '../src/analysis/analyze.js';
import { findModels, noModelError, orderRuns, type FoundModels, type InFile, type LoadedRun } from './app-models.js';
import { analysisInput, planData, type Answers, type Choice, type DataPlan, type Question } from './app-data.js';
import type { AppError } from './app-protocol.js';

export type { Answers, Choice, Question } from './app-data.js';
export type { InFile } from './app-models.js';

export type FileKind =
  | 'model'
  | 'weights'
  | 'part'
  | 'data'
  | 'targets'
  | 'data+targets'
  | 'candidate'
  | 'unused'
  | 'error';

export interface FileRow {
  name: string;
  size: number;
  kind: FileKind;
  /** The run (index into runs) a model file, its weights or its parts belong to. */
  run: number | null;
  note: string;
}

export interface RunRow {
  label: string;
  main: string;
  weights: string | null;
  name: string;
  format: string;
  kerasVersion: string;
  params: number;
  inputs: string[];
  outputs: string[];
  /** The loss the model file records, if any. */
  loss: string | null;
  summary: string;
}

export interface Inspection {
  files: FileRow[];
  runs: RunRow[];
  data: Choice | null;
  targets: Choice | null;
  questions: Question[];
  errors: AppError[];
  /** Nothing is refused or still asked: the analysis can run. */
  ready: boolean;
}

function runRow(r: LoadedRun): RunRow {
  const m = r.model;
  const shape = (ids: number[], names: string[]) => ids.map((id, i) => `${names[i]} ${fmtShape(m.tensors[id]!.shape)}`);
  return {
    label: r.label,
    main: r.main,
    weights: r.weights,
    name: m.name,
    format: m.meta.format,
    kerasVersion: m.meta.kerasVersion,
    params: countParams(m).total,
    inputs: shape(m.inputs, m.inputNames),
    outputs: shape(m.outputs, m.outputNames),
    loss: m.meta.loss?.map((l) => l.name).join(' + ') ?? null,
    summary: summary(m),
  };
}

export class Session {
  private constructor(
    readonly files: InFile[],
    readonly found: FoundModels,
    readonly order: 'name' | 'mtime',
  ) {}

  /** Reads the models among `files` (the expensive part: HDF5, zip, weight binding), in checkpoint order. */
  static async open(files: InFile[]): Promise<Session> {
    const { found, order } = orderRuns(await findModels(files), files);
    return new Session(files, found, order);
  }

  get models(): ModelSpec[] {
    return this.found.runs.map((r) => r.model);
  }

  private rest(): InFile[] {
    return this.files.filter((f) => this.found.roles.get(f.name)?.kind === 'rest');
  }

  /** The data plan for the first model (the command line fits the data to the first model too). */
  plan(loss: string | undefined, answers: Answers): DataPlan | null {
    const first = this.found.runs[0];
    return first ? planData(first.model, this.rest(), loss, answers) : null;
  }

  async inspect(loss: string | undefined, answers: Answers): Promise<Inspection> {
    const plan = this.plan(loss, answers);
    const errors = [...this.found.errors, ...(plan?.errors ?? [])];
    if (this.found.runs.length === 0 && this.found.errors.length === 0) errors.push(await noModelError(this.files));
    const files: FileRow[] = this.files.map((f) => {
      const mr = this.found.roles.get(f.name)!;
      const base = { name: f.name, size: f.bytes.length };
      if (mr.kind === 'model' || mr.kind === 'weights' || mr.kind === 'part') {
        const run = this.found.runs[mr.run]!;
        const note =
          mr.kind === 'model'
            ? `${run.model.meta.format} model ${run.model.name}`
            : mr.kind === 'weights'
              ? `weights of ${run.main}`
              : `read by ${run.main}`;
        return { ...base, kind: mr.kind, run: mr.run, note };
      }
      if (mr.kind === 'unused') return { ...base, kind: 'unused', run: null, note: mr.note };
      const dr = plan?.roles.get(f.name);
      if (!dr) return { ...base, kind: 'unused', run: null, note: this.found.runs.length ? 'not used' : 'not a model' };
      return { ...base, kind: dr.kind, run: null, note: dr.note };
    });
    const questions = plan?.questions ?? [];
    return {
      files,
      runs: this.found.runs.map(runRow),
      data: plan?.data ?? null,
      targets: plan?.targets ?? null,
      questions,
      errors,
      ready: this.found.runs.length > 0 && errors.length === 0 && questions.length === 0,
    };
  }

  /** The analysis input for the current answers, read as the command line reads --data/--targets. */
  input(loss: string | undefined, answers: Answers, warnings: Warning[]): AnalyzeInput {
    const plan = this.plan(loss, answers);
    if (!plan) return { inputs: null, targets: null, dataSource: null };
    return analysisInput(this.found.runs[0]!.model, this.files, plan, loss, warnings);
  }
}
