// render-jinja.mjs: renders chat templates with @huggingface/jinja for the Go tests (thin: all
// the cases and comparisons live in Go).
// Usage: node render-jinja.mjs NODE_MODULES_DIR < cases.json > results.json
// Input: a JSON array of {"template": "<jinja source>", "vars": {...}}; output: a JSON array,
// one {"out": "..."} or {"error": "..."} per case, in order.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const { Template } = await import(pathToFileURL(path.join(process.argv[2], "@huggingface", "jinja", "dist", "index.js")).href);
const cases = JSON.parse(fs.readFileSync(0, "utf8"));
const compiled = new Map();
const results = cases.map(({ template, vars }) => {
    try {
        if (!compiled.has(template)) compiled.set(template, new Template(template));
        return { out: compiled.get(template).render(vars) };
    } catch (e) {
        return { error: String(e?.message ?? e) };
    }
});
process.stdout.write(JSON.stringify(results));
