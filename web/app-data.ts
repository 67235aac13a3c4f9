// Which dropped files are the inputs and which the targets, decided by fitting each to the model
// the way `rnnscope analyze --data/--targets` does (src/io/data.ts openData, src/io/data-check.ts
// fitDataToModel):
//   an array set that fits the model's inputs                       → a data candidate
//   one that fits its outputs and is named like y, targets, labels  → a targets candidate
//     (or named after an output; arrays named so inside the data file are its own targets)
//   one that fits the outputs under another name                    → a candidate only when chosen
//   several files each named after one input of a multi-input model → one candidate together
// One candidate is taken; several (or an unnamed one) become a question, never a silent guess.
// Pure: no DOM, no node:*.

import { dataFormatOf, openData, type NamedArray } from '../src/io/data.js';
import { fitDataToModel, fitInputsAndTargets } from '../src/io/data-check.js';
import { DataError } from '../src/model/errors.js';
import type { ModelSpec, Warning } from '../src/model/types.js';
import type { AnalyzeInput } from '../src/analysis/analyze.js';
import { errorOf, type AppError } from './app-protocol.js';
import { baseName, type InFile } from './app-models.js';

/** As the command line recognises targets among the arrays of a data file (src/cli/analyze.ts). */
export const TARGET_LIKE = /^(y|y_.+|targets?|labels?)$/i;

export interface Choice {
  /** "x.npy", "a.npy+b.npy" (one file per input), "in:x.npz" (the targets inside a data file), "none". */
  id: string;
  files: string[];
  label: string;
}

export interface Question {
  about: 'data' | 'targets';
  text: string;
  options: Choice[];
}

export interface DataRole {
  kind: 'data' | 'targets' | 'data+targets' | 'candidate' | 'unused' | 'error';
  note: string;
}

export interface DataPlan {
  data: Choice | null;
  targets: Choice | null;
  questions: Question[];
  errors: AppError[];
  roles: Map<string, DataRole>;
}

export interface Answers {
  data?: string;
  targets?: string;
}

interface Parsed {
  file: InFile;
  arrays: NamedArray[];
}

const tryFit = (f: () => unknown): AppError | null => {
  try {
    f();
    return null;
  } catch (e) {
    return errorOf(e);
  }
};

const targetNamed = (model: ModelSpec, arrays: NamedArray[]) =>
  arrays.length > 0 && arrays.every((a) => TARGET_LIKE.test(a.name) || model.outputNames.includes(a.name));
const holdsTargets = (model: ModelSpec, arrays: NamedArray[]) =>
  arrays.some((a) => TARGET_LIKE.test(a.name) || model.outputNames.includes(a.name));
/** The data format src/io reads the file as (files of one input each are grouped by it). */
const formatOf = (f: InFile) => dataFormatOf(f.bytes, baseName(f.name)).name;
const lossesFor = (model: ModelSpec, loss?: string) => (loss ? model.outputNames.map(() => loss) : undefined);

/**
 * Sorts `files` (those no model took) into inputs, targets, questions and refusals for `model`.
 * A file picked on its own that is unreadable or fits nothing is refused with the command line's
 * message; one found inside a dropped folder is listed as unused.
 */
export function planData(
  model: ModelSpec,
  files: readonly InFile[],
  loss: string | undefined,
  answers: Answers,
): DataPlan {
  const roles = new Map<string, DataRole>();
  const errors: AppError[] = [];
  const refuse = (f: InFile, e: AppError) => {
    if (f.fromFolder) roles.set(f.name, { kind: 'unused', note: e.message });
    else {
      roles.set(f.name, { kind: 'error', note: e.message });
      errors.push(e);
    }
  };
  const parsed: Parsed[] = [];
  for (const file of files) {
    try {
      parsed.push({ file, arrays: openData(file.bytes, baseName(file.name)) });
    } catch (e) {
      refuse(file, errorOf(e));
    }
  }
  const losses = lossesFor(model, loss);
  // Candidates for the inputs: one file, or one file per input named after it (same format).
  const dataCands: { choice: Choice; parts: Parsed[] }[] = [];
  const fitIn = new Map<string, AppError | null>();
  for (const p of parsed) {
    const err = tryFit(() => fitDataToModel(model, p.arrays, 'inputs'));
    fitIn.set(p.file.name, err);
    if (
      !err &&
      !(targetNamed(model, p.arrays) && !tryFit(() => fitDataToModel(model, p.arrays, 'targets', { losses })))
    ) {
      dataCands.push({ choice: { id: p.file.name, files: [p.file.name], label: p.file.name }, parts: [p] });
    }
  }
  if (model.inputNames.length > 1) {
    const perInput = parsed.filter(
      (p) => fitIn.get(p.file.name) && p.arrays.length > 0 && p.arrays.every((a) => model.inputNames.includes(a.name)),
    );
    for (const fmt of new Set(perInput.map((p) => formatOf(p.file)))) {
      const group = model.inputNames.map((n) =>
        perInput.find((p) => formatOf(p.file) === fmt && p.arrays.some((a) => a.name === n)),
      );
      if (group.some((g) => !g) || new Set(group).size !== group.length) continue;
      const parts = group as Parsed[];
      if (
        tryFit(() =>
          fitDataToModel(
            model,
            parts.flatMap((p) => p.arrays),
            'inputs',
          ),
        )
      )
        continue;
      const names = parts.map((p) => p.file.name);
      dataCands.push({ choice: { id: names.join('+'), files: names, label: names.join(' + ') }, parts });
    }
  }
  const questions: Question[] = [];
  let data: (typeof dataCands)[number] | null = null;
  if (dataCands.length === 1) data = dataCands[0]!;
  else if (dataCands.length > 1) {
    data = dataCands.find((c) => c.choice.id === answers.data) ?? null;
    if (!data)
      questions.push({
        about: 'data',
        text: `${dataCands.length} files fit the model's inputs; which one is the data?`,
        options: dataCands.map((c) => c.choice),
      });
  }
  const inData = new Set(data?.parts.map((p) => p.file.name) ?? []);
  for (const c of dataCands)
    for (const p of c.parts)
      if (!roles.has(p.file.name)) roles.set(p.file.name, { kind: 'candidate', note: 'fits the inputs' });

  // Targets, checked against the chosen data's number of samples.
  let targets: Choice | null = null;
  const batch = data
    ? fitDataToModel(
        model,
        data.parts.flatMap((p) => p.arrays),
        'inputs',
      )[0]?.shape[0]
    : undefined;
  const named: Choice[] = [],
    unnamed: Choice[] = [];
  if (data) {
    const arrays = data.parts.flatMap((p) => p.arrays);
    if (holdsTargets(model, arrays) && !tryFit(() => fitDataToModel(model, arrays, 'targets', { batch, losses }))) {
      named.push({ id: `in:${data.choice.id}`, files: [], label: `the targets inside ${data.choice.label}` });
    }
  }
  for (const p of parsed) {
    if (inData.has(p.file.name) || (roles.get(p.file.name)?.kind === 'candidate' && !targetNamed(model, p.arrays)))
      continue;
    const err = tryFit(() => fitDataToModel(model, p.arrays, 'targets', { batch, losses }));
    const isNamed = targetNamed(model, p.arrays);
    if (!err) {
      (isNamed ? named : unnamed).push({ id: p.file.name, files: [p.file.name], label: p.file.name });
      roles.set(p.file.name, {
        kind: 'candidate',
        note: isNamed ? 'fits the outputs' : 'fits the outputs (not named like targets)',
      });
    } else if (roles.get(p.file.name)?.kind !== 'candidate') {
      // Fits nothing: the inputs' complaint, or for a file named like targets the targets' one.
      refuse(p.file, isNamed ? err : (fitIn.get(p.file.name) ?? err));
    }
  }
  if (data) {
    const cands = [...named, ...unnamed];
    if (named.length === 1 && unnamed.length === 0) targets = named[0]!;
    else if (cands.length > 0) {
      const picked = answers.targets === 'none' ? 'none' : cands.find((c) => c.id === answers.targets);
      if (picked === 'none') targets = null;
      else if (picked) targets = picked;
      else {
        const text =
          named.length === 0
            ? `${unnamed.map((c) => c.label).join(', ')} fit${unnamed.length === 1 ? 's' : ''} the ` +
              `model's outputs but ${unnamed.length === 1 ? 'is' : 'are'} not named like targets (y, ` +
              `targets, labels); use ${unnamed.length === 1 ? 'it' : 'one'} as the targets?`
            : `${cands.length} choices fit the model's outputs; which are the targets?`;
        questions.push({
          about: 'targets',
          text,
          options: [...cands, { id: 'none', files: [], label: 'none (a self-objective)' }],
        });
      }
    }
  } else {
    for (const p of parsed) {
      if (roles.get(p.file.name)?.kind !== 'candidate' || !targetNamed(model, p.arrays)) continue;
      if (dataCands.length > 0) continue; // waits for the data question
      refuse(
        p.file,
        errorOf(
          new DataError(
            `${p.file.name} holds targets, but no input data was given; expected inputs to go with the targets, so add the data file too or remove ${p.file.name}.`,
            { file: p.file.name },
          ),
        ),
      );
    }
  }
  for (const name of data?.choice.files ?? [])
    roles.set(name, { kind: targets?.id.startsWith('in:') ? 'data+targets' : 'data', note: 'the inputs' });
  for (const name of targets?.files ?? []) roles.set(name, { kind: 'targets', note: 'the targets' });
  const asked = (name: string) => questions.some((q) => q.options.some((o) => o.files.includes(name)));
  const waiting = questions.some((q) => q.about === 'data');
  for (const [name, r] of roles) {
    if (r.kind === 'candidate' && !asked(name))
      roles.set(name, {
        kind: 'unused',
        note: waiting ? `${r.note}; waits for the choice of the data` : `${r.note}; another file was taken`,
      });
  }
  return { data: data?.choice ?? null, targets, questions, errors, roles };
}

/**
 * The analysis input for the chosen files, read and fitted exactly as the command line's loadData
 * does (same calls, same order, so the same warnings in the same order).
 */
export function analysisInput(
  model: ModelSpec,
  files: readonly InFile[],
  plan: Pick<DataPlan, 'data' | 'targets'>,
  loss: string | undefined,
  warnings: Warning[],
): AnalyzeInput {
  if (!plan.data) return { inputs: null, targets: null, dataSource: null };
  const byName = new Map(files.map((f) => [f.name, f]));
  const arrays: NamedArray[] = [];
  for (const n of plan.data.files) arrays.push(...openData(byName.get(n)!.bytes, baseName(n), { warnings }));
  const losses = lossesFor(model, loss);
  const tFile = plan.targets && !plan.targets.id.startsWith('in:') ? plan.targets.files[0]! : null;
  const tArrays = tFile
    ? openData(byName.get(tFile)!.bytes, baseName(tFile), { warnings })
    : plan.targets
      ? arrays
      : null;
  const { inputs, targets } = fitInputsAndTargets(model, arrays, tArrays, { warnings, losses });
  return {
    inputs: inputs.map((a) => ({ shape: a.shape, data: a.data })),
    targets: targets ? targets.map((a) => ({ shape: a.shape, data: a.data })) : null,
    dataSource: [...plan.data.files, ...(tFile ? [tFile] : [])].map(baseName).join(', '),
  };
}
