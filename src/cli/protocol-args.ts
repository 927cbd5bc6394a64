/**
 * The evaluation-protocol option set every command that splits data shares (baselines, train
 * candidates, evaluate, ...), parsed in one place so `--protocol temporal --cut-time ...` means the
 * same thing everywhere. Use it with node:util parseArgs:
 *
 *   const { values } = parseArgs({ args, options: { ...dataOptions, ...protocolOptions } });
 *   const protocol = parseProtocolArgs(values);
 *   const split = splitFromArgs(dataset, protocol); // option errors become CliErrors
 *
 * and append `protocolHelp` to the command's --help text.
 */
import type { ParseArgsConfig } from "node:util";
import type { Dataset } from "../data/dataset.js";
import type { JsonValue } from "../engine/model-file/index.js";
import { makeSplit } from "../eval/run-baselines.js";
import type { TemporalOptions } from "../eval/split-temporal.js";
import type { Split } from "../eval/types.js";
import { CliError, optionError } from "./errors.js";
import { parseNumber, parseTime } from "./values.js";

const PROTOCOLS = ["loo", "temporal"] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export const protocolOptions = {
  protocol: { type: "string" },
  "cut-quantile": { type: "string" },
  "cut-time": { type: "string" },
  window: { type: "string" },
} as const satisfies NonNullable<ParseArgsConfig["options"]>;

export const protocolHelp = `Protocol options (docs: protocol.md):
  --protocol <loo|temporal>  leave-last-out next watch, or a global time cut (default loo)
  --cut-quantile <q>         temporal: cut at this quantile of interaction times (default 0.9)
  --cut-time <t>             temporal: cut time, epoch seconds or ISO-8601 (overrides --cut-quantile)
  --window <days|all>        temporal: target window after the cut (default 30)`;

/** The parsed values of `protocolOptions`. */
export interface ProtocolArgValues {
  protocol?: string;
  "cut-quantile"?: string;
  "cut-time"?: string;
  window?: string;
}

export interface ProtocolArgs {
  readonly protocol: Protocol;
  /** Temporal cut and window (empty for loo, or when every temporal option is left at its default). */
  readonly temporal: TemporalOptions;
}

/**
 * Parses the protocol options. `fallback` supplies what the command line leaves out (evaluate
 * uses the protocol a model was trained with); the temporal options fall back only as a whole
 * and only when the protocol is the fallback's, so a flag given on the command line is never
 * mixed with a stored cut.
 */
export function parseProtocolArgs(values: ProtocolArgValues, fallback?: Partial<ProtocolArgs>): ProtocolArgs {
  const text = values.protocol ?? fallback?.protocol ?? "loo";
  if (!(PROTOCOLS as readonly string[]).includes(text))
    throw new CliError(`--protocol: expected ${PROTOCOLS.join(" or ")}, got "${text}"`);
  const protocol = text as Protocol;
  const given: TemporalOptions = {
    ...(values["cut-quantile"] === undefined
      ? {}
      : { cutQuantile: parseNumber("--cut-quantile", values["cut-quantile"]) }),
    ...(values["cut-time"] === undefined ? {} : { cutTime: parseTime("--cut-time", values["cut-time"]) }),
    ...(values.window === undefined
      ? {}
      : { windowDays: values.window === "all" ? "all" : parseNumber("--window", values.window) }),
  };
  if (protocol === "loo") {
    if (Object.keys(given).length > 0)
      throw new CliError("--cut-quantile, --cut-time and --window apply to --protocol temporal only");
    return { protocol, temporal: {} };
  }
  const useFallback = Object.keys(given).length === 0 && fallback?.protocol === protocol;
  return { protocol, temporal: useFallback ? (fallback.temporal ?? {}) : given };
}

/** The split the parsed options ask for; a cut that leaves no data is reported as a CliError. */
export function splitFromArgs(dataset: Dataset, args: ProtocolArgs): Split {
  try {
    return makeSplit(dataset, args.protocol, args.temporal);
  } catch (err) {
    throw optionError(err);
  }
}

/**
 * The protocol a model was trained with, from its manifest's metadata (`protocol`,
 * `protocolParams` as \`train\` commands record them): the protocol name and, for temporal, the
 * cut time and window, which reproduce the training split exactly on the same data. Pass it as
 * parseProtocolArgs' fallback. Empty when the manifest records no protocol.
 */
export function trainedProtocol(metadata: Readonly<Record<string, JsonValue>>): Partial<ProtocolArgs> {
  const { protocol, protocolParams: params } = metadata;
  if (protocol !== "loo" && protocol !== "temporal") return {};
  if (protocol === "loo" || params === null || typeof params !== "object" || Array.isArray(params))
    return { protocol };
  const temporal: TemporalOptions = {
    ...(typeof params.cutTime === "number" ? { cutTime: params.cutTime } : {}),
    ...(typeof params.windowDays === "number" || params.windowDays === "all"
      ? { windowDays: params.windowDays }
      : {}),
  };
  return { protocol, temporal };
}
