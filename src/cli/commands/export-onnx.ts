/**
 * `watchnext export onnx`: writes a trained model as ONNX graphs (src/interop/onnx) for serving
 * with ONNX Runtime or Triton: the candidate tower, the item matrix, exact item scores and, from a
 * two-stage directory, the ranker.
 */
import { parseArgs } from "node:util";
import { readManifest } from "../../engine/model-file/index.js";
import { writeOnnxExport } from "../../interop/onnx/export.js";
import { CANDIDATE_MODEL_KIND } from "../../models/candidates/model-io.js";
import { CandidateModel } from "../../models/candidates/model.js";
import { loadTwoStage, TWO_STAGE_MODEL_KIND } from "../../models/ranking/two-stage-dir.js";
import { dataHelp, dataOptions, loadFromArgs } from "../data-args.js";
import { CliError } from "../errors.js";
import { parseProtocolArgs, splitFromArgs, trainedProtocol } from "../protocol-args.js";
import type { Command } from "./command.js";

const help = `Usage: watchnext export onnx --model <dir> --data <path> --out <dir>

Writes the model as ONNX graphs (IR 8, opset 17) with onnx.json listing every input and output
(name, dtype, shape), the item order and checksums; docs/interop.md says how to serve them:

  candidate_tower.onnx    packed user features -> user [batch, d]
  items.onnx              no inputs -> item_vectors [items, d] (and item_bias [items])
  candidate_scores.onnx   user [batch, d] -> scores [batch, items] = u . v_i + b_i
  ranker.onnx             (two-stage directory) query.*, impression.*, list_index -> logit

--data must be the dataset the model was trained on (its split is remade as for evaluate).

  --model <dir>          model directory (\`watchnext train\` or \`watchnext train candidates\`)
  --out <dir>            export directory to write (replaced atomically)

${dataHelp}`;

export const exportOnnx: Command = {
  summary: "Export a trained model as ONNX graphs (candidate tower, items, ranker)",
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        ...dataOptions,
        model: { type: "string" },
        out: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      console.log(help);
      return 0;
    }
    if (!values.model) throw new CliError(`--model <dir> is required\n\n${help}`);
    if (!values.out) throw new CliError(`--out <dir> is required\n\n${help}`);
    const manifest = readManifest(values.model);
    const twoStage = manifest.kind === TWO_STAGE_MODEL_KIND;
    if (!twoStage && manifest.kind !== CANDIDATE_MODEL_KIND)
      throw new CliError(
        `${values.model}: holds a "${manifest.kind}" model, expected a two-stage or candidates directory`,
      );
    const dataset = await loadFromArgs(values);
    let candidates: CandidateModel;
    let ranker = null;
    if (twoStage) {
      const loaded = loadTwoStage(values.model, dataset);
      candidates = loaded.model.candidates;
      ranker = loaded.model.ranker;
    } else {
      const split = splitFromArgs(dataset, parseProtocolArgs({}, trainedProtocol(manifest.metadata)));
      candidates = CandidateModel.load(values.model, split.train);
    }
    const out = writeOnnxExport(values.out, {
      candidates,
      ranker,
      itemIds: dataset.items.ids,
      modelSha256: manifest.manifestSha256,
    });
    console.log(
      `wrote ${values.out}: ${Object.values(out.graphs)
        .map((g) => g.file)
        .join(", ")}`,
    );
    return 0;
  },
};
