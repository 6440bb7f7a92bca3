// peer.mjs: a thin bridge from the Go package llamacpp to llama.cpp through node-llama-cpp.
//
// Usage: node peer.mjs NODE_MODULES_DIR CONFIG_JSON
//
// Requests arrive on stdin, responses leave on file descriptor 3, both as one JSON object per
// line; stdout and stderr carry only logs. Every request has an integer "id" and an "op"; every
// response repeats the "id" and holds either "error" (a string) or the op's result fields. The
// first line on fd 3 answers the start-up: {"id":0,"info":{...}} or {"id":0,"error":"..."}.
// All the logic (validation, shapes, decoding) lives on the Go side; this script only calls
// node-llama-cpp and moves numbers.
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { pathToFileURL } from "node:url";

const [nodeModules, configJSON] = process.argv.slice(2);
const cfg = JSON.parse(configJSON);
const out = 3; // the response pipe the Go side passes as its first extra file

function send(obj) {
    fs.writeSync(out, JSON.stringify(obj) + "\n");
}

const lib = await import(pathToFileURL(path.join(nodeModules, "node-llama-cpp", "dist", "index.js")).href);

let llama, model, context, sequence, vocabSize;
try {
    llama = await lib.getLlama({
        gpu: false, build: "never", skipDownload: true, usePrebuiltBinaries: true, progressLogs: false,
        maxThreads: cfg.threads,
        logLevel: lib.LlamaLogLevel.warn,
        logger: (level, message) => process.stderr.write(`[llama.cpp ${level}] ${message}\n`),
    });
    model = await llama.loadModel({ modelPath: cfg.model, gpuLayers: 0, vocabOnly: cfg.vocabOnly, useMmap: true });
    vocabSize = model.fileInfo.metadata?.tokenizer?.ggml?.tokens?.length ?? 0;
    if (!cfg.vocabOnly) {
        context = await model.createContext({
            sequences: 1,
            contextSize: cfg.contextSize,
            batchSize: cfg.contextSize, // one batch (and one ubatch) covers any prompt that fits
            flashAttention: cfg.flashAttention,
            threads: { ideal: cfg.threads, min: cfg.threads },
            experimentalKvCacheKeyType: cfg.kvCacheType,
            experimentalKvCacheValueType: cfg.kvCacheType,
            swaFullCache: true,
            failedCreationRemedy: false,
        });
        sequence = context.getSequence();
    }
} catch (e) {
    send({ id: 0, error: String(e?.stack ?? e) });
    process.exit(1);
}

const ggmlTypeName = (t) => ({ 0: "F32", 1: "F16", 30: "BF16" })[t] ?? String(t);
send({
    id: 0,
    info: {
        arch: model.fileInfo.metadata?.general?.architecture ?? "",
        vocabSize,
        bos: model.tokens.bos ?? -1,
        eos: model.tokens.eos ?? -1,
        eot: model.tokens.eot ?? -1,
        addBos: model.tokens.shouldPrependBosToken,
        addEos: model.tokens.shouldAppendEosToken,
        contextSize: context?.contextSize ?? 0,
        batchSize: context?.batchSize ?? 0,
        threads: context?.idealThreads ?? 0,
        flashAttention: context ? Boolean(context.flashAttention) : false,
        kvCacheKeyType: context ? ggmlTypeName(context.kvCacheKeyType) : "",
        kvCacheValueType: context ? ggmlTypeName(context.kvCacheValueType) : "",
        llamaCppRelease: llama.llamaCppRelease?.release ?? "",
        nodeLlamaCppVersion: JSON.parse(fs.readFileSync(path.join(nodeModules, "node-llama-cpp", "package.json"), "utf8")).version,
        systemInfo: llama.systemInfo,
    },
});

const greedy = { temperature: 0 };

function needContext() {
    if (sequence == null) throw new Error("the model was loaded vocabulary-only: it cannot evaluate");
}

// logitsOf copies the (token -> logit) map of one position into a dense little-endian float32 row.
function logitsOf(map) {
    if (map.size !== vocabSize) throw new Error(`got ${map.size} logits for a vocabulary of ${vocabSize}`);
    const row = new Float32Array(vocabSize);
    for (const [tok, v] of map) row[tok] = v;
    return Buffer.from(row.buffer).toString("base64");
}

const ops = {
    tokenize(r) {
        const ids = model.tokenize(r.text, r.special);
        return { ids: Array.from(ids) };
    },
    detokenize(r) {
        return { text: model.detokenize(r.ids, r.special) };
    },
    async greedy(r) {
        needContext();
        await sequence.clearHistory();
        const gen = [];
        let res = await sequence.controlledEvaluate(r.ids.map((t, i) =>
            i === r.ids.length - 1 ? [t, { generateNext: { token: true, options: greedy } }] : t));
        for (;;) {
            const t = res[res.length - 1]?.next?.token;
            if (t == null) throw new Error(`no token sampled after ${gen.length} tokens`);
            gen.push(t);
            if (gen.length >= r.n || (r.stopAtEog && model.isEogToken(t))) break;
            res = await sequence.controlledEvaluate([[t, { generateNext: { token: true, options: greedy } }]]);
        }
        return { ids: gen };
    },
    async logits(r) {
        needContext();
        await sequence.clearHistory();
        const res = await sequence.controlledEvaluate(r.ids.map((t) =>
            [t, { generateNext: { logits: true, options: greedy } }]));
        const rows = [];
        for (let i = 0; i < r.ids.length; i++) {
            const m = res[i]?.next?.logits;
            if (m == null) throw new Error(`no logits at position ${i}`);
            rows.push(logitsOf(m));
        }
        return { logits: rows };
    },
    async bench(r) {
        needContext();
        const prompt = r.ids;
        const run = async (nPrompt, nGen) => {
            await sequence.clearHistory();
            const p = prompt.slice(0, nPrompt);
            const t0 = process.hrtime.bigint();
            let res = await sequence.controlledEvaluate(p.map((t, i) =>
                i === p.length - 1 ? [t, { generateNext: { token: true, options: greedy } }] : t));
            const t1 = process.hrtime.bigint();
            let t = res[res.length - 1].next.token;
            for (let i = 0; i < nGen; i++) {
                res = await sequence.controlledEvaluate([[t, { generateNext: { token: true, options: greedy } }]]);
                t = res[0].next.token;
            }
            const t2 = process.hrtime.bigint();
            return { prefillNs: Number(t1 - t0), decodeNs: Number(t2 - t1) };
        };
        await run(Math.min(prompt.length, 16), Math.min(r.n, 4)); // warm-up: page in weights, size buffers
        return await run(prompt.length, r.n);
    },
};

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
    if (line.trim() === "") continue;
    let req;
    try {
        req = JSON.parse(line);
    } catch (e) {
        send({ id: -1, error: `bad request line: ${e}` });
        continue;
    }
    const op = ops[req.op];
    if (op == null) {
        send({ id: req.id, error: `unknown op ${JSON.stringify(req.op)}` });
        continue;
    }
    try {
        send({ id: req.id, ...(await op(req)) });
    } catch (e) {
        send({ id: req.id, error: String(e?.message ?? e) });
    }
}
await context?.dispose();
await model.dispose();
await llama.dispose();
