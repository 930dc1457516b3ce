/**
 * Generates the documentation that is derived from the code, so it cannot drift from it:
 *
 * - README.md, between `<!-- config-table:start -->` and `<!-- config-table:end -->`: every
 *   MemberlistConfig option with its lan/wan/local default (the real PRESETS values) and the first
 *   sentence of its doc comment in src/config.ts;
 * - README.md, between `<!-- timings-table:start -->` and `<!-- timings-table:end -->`: the timings that
 *   follow from each preset for N = 10 to 10,000, computed with the functions of src/timing.ts;
 * - docs/API.md: an API reference built from the doc comments of everything src/index.ts exports
 *   (with ts-morph, which bundles its own TypeScript compiler).
 *
 * Usage: `npx tsx scripts/gen-docs.ts [--check] [--no-api] [--out-dir DIR]`
 *   --check    write nothing; exit 1 and name each stale file when the output differs from what is on disk.
 *   --no-api   leave docs/API.md alone (used when ts-morph is not installed).
 *   --out-dir  read and write README.md and docs/API.md under DIR instead of the repository root (the
 *              sources are always the repository's); for tests.
 *
 * Only the text between the markers is touched; everything else in README.md is hand-written.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-ignore -- ts-morph is an optional devDependency until it is added to package.json; without it the
// types below are `any` and `--no-api` must be used.
import type * as TsMorph from 'ts-morph';
import { CONFIG_KEYS, PRESETS, type MemberlistConfig, type Profile } from '../src/config.js';
import { pushPullScaleMs, retransmitLimit, suspicionK, suspicionTimeoutMs } from '../src/timing.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PROFILES: readonly Profile[] = ['lan', 'wan', 'local'];
/** Cluster sizes of the timings table. */
export const CLUSTER_SIZES: readonly number[] = [10, 50, 100, 500, 1_000, 5_000, 10_000];

// ---------------------------------------------------------------------------------------------------------
// Small helpers

/** Turns `{@link X}` and `{@link X | text}` into inline code. */
function links(text: string): string {
  return text.replace(/\{@link(?:code|plain)?\s+([^}|\s]+)(?:\s*\|\s*([^}]*))?\}/g, (_m, target: string, label?: string) =>
    label !== undefined && label.trim() !== '' ? `${label.trim()} (\`${target}\`)` : `\`${target}\``,
  );
}

/** Escapes text for a markdown table cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

/** 10000 -> "10,000", deterministic whatever the locale. */
function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Milliseconds as seconds with at most three decimals and no trailing zeros. */
function seconds(ms: number): string {
  return (ms / 1000).toFixed(3).replace(/\.?0+$/, '');
}

function table(header: readonly string[], rows: readonly (readonly string[])[], align?: readonly ('l' | 'r')[]): string {
  const sep = header.map((_, i) => (align?.[i] === 'r' ? '---:' : '---'));
  return [header, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// The configuration table

/**
 * The doc comment of every MemberlistConfig field, in declaration order, read from the text of
 * src/config.ts: a JSDoc block directly followed by `readonly field:`.
 */
export function configFieldDocs(configSource: string): Map<string, string> {
  const start = configSource.indexOf('export interface MemberlistConfig {');
  if (start < 0) throw new Error('src/config.ts: `export interface MemberlistConfig {` not found');
  const end = configSource.indexOf('\n}', start);
  const body = configSource.slice(start, end);
  const docs = new Map<string, string>();
  for (const m of body.matchAll(/\/\*\*([\s\S]*?)\*\/\s*readonly\s+(\w+)\??\s*:/g)) {
    const text = (m[1] ?? '')
      .split('\n')
      .map((line) => line.replace(/^\s*\*\s?/, '').trim())
      .filter((line) => line !== '')
      .join(' ');
    docs.set(m[2] ?? '', text);
  }
  return docs;
}

/** Words ending in a period that do not end a sentence. */
const ABBREVIATIONS = new Set(['e.g.', 'i.e.', 'etc.', 'vs.', 'cf.']);

/** The first sentence: up to the first `.`, `!` or `?` followed by whitespace or the end, abbreviations excepted. */
export function firstSentence(text: string): string {
  const t = text.trim();
  for (const m of t.matchAll(/[.!?](?=\s|$)/g)) {
    const end = (m.index ?? 0) + 1;
    const word = /\S*$/.exec(t.slice(0, end))?.[0] ?? '';
    if (ABBREVIATIONS.has(word.toLowerCase())) continue;
    return t.slice(0, end);
  }
  return t;
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return `\`'${value}'\``;
  if (Array.isArray(value)) return value.length === 0 ? '`[]`' : `\`${JSON.stringify(value)}\``;
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  return `\`${String(value)}\``;
}

export function configTable(configSource: string): string {
  const docs = configFieldDocs(configSource);
  const keys = [...docs.keys()];
  const missing = CONFIG_KEYS.filter((k) => !docs.has(k));
  const extra = keys.filter((k) => !(CONFIG_KEYS as readonly string[]).includes(k));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(
      `src/config.ts: MemberlistConfig doc comments and CONFIG_KEYS disagree (no doc comment: ${missing.join(', ') || 'none'}; ` +
        `not in CONFIG_KEYS: ${extra.join(', ') || 'none'})`,
    );
  }
  const rows = keys.map((key) => {
    const values = PROFILES.map((p) =>
      key === 'name' ? '`os.hostname()`' : formatValue(PRESETS[p][key as Exclude<keyof MemberlistConfig, 'name'>]),
    );
    return [`\`${key}\``, ...values, cell(links(firstSentence(docs.get(key) ?? '')))];
  });
  return table(['option', 'lan', 'wan', 'local', 'meaning'], rows);
}

// ---------------------------------------------------------------------------------------------------------
// The timings table

export function timingsTable(): string {
  const rows: string[][] = [];
  for (const n of CLUSTER_SIZES) {
    for (const p of PROFILES) {
      const c = PRESETS[p];
      const min = suspicionTimeoutMs(c.suspicionMult, n, c.probeIntervalMs);
      const max = c.suspicionMaxTimeoutMult * min;
      rows.push([
        grouped(n),
        p,
        seconds(min),
        seconds(max),
        String(suspicionK(c.suspicionMult, n)),
        String(retransmitLimit(c.retransmitMult, n)),
        seconds(pushPullScaleMs(c.pushPullIntervalMs, n)),
        seconds(c.gossipToTheDeadMs),
      ]);
    }
  }
  return table(
    [
      'N',
      'preset',
      'suspicion min (s)',
      'suspicion max (s)',
      'k',
      'retransmit limit',
      'push-pull interval (s)',
      'gossip to the dead (s)',
    ],
    rows,
    ['r', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
}

// ---------------------------------------------------------------------------------------------------------
// README.md sections

const GENERATED_NOTE = '<!-- generated by scripts/gen-docs.ts (npm run docs); do not edit by hand -->';

/** Replaces the text between `<!-- name:start -->` and `<!-- name:end -->` (both required, once each). */
export function replaceSection(text: string, name: string, content: string): string {
  const startMarker = `<!-- ${name}:start -->`;
  const endMarker = `<!-- ${name}:end -->`;
  const start = text.indexOf(startMarker);
  const end = text.indexOf(endMarker);
  if (start < 0 || end < 0 || end < start || text.indexOf(startMarker, start + 1) >= 0) {
    throw new Error(`README.md: expected one ${startMarker} followed by one ${endMarker}`);
  }
  return `${text.slice(0, start + startMarker.length)}\n${GENERATED_NOTE}\n${content}\n${text.slice(end)}`;
}

export function generateReadme(readme: string, configSource: string): string {
  let out = replaceSection(readme, 'config-table', configTable(configSource));
  out = replaceSection(out, 'timings-table', timingsTable());
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// docs/API.md

type Tsm = typeof TsMorph;
type AnyNode = TsMorph.Node;

/** The JSDoc blocks of a node (of its variable statement, for a variable). */
function jsDocsOf(tsm: Tsm, node: AnyNode): TsMorph.JSDoc[] {
  let target: AnyNode = node;
  if (tsm.Node.isVariableDeclaration(node)) target = node.getVariableStatement() ?? node;
  return tsm.Node.isJSDocable(target) ? target.getJsDocs() : [];
}

function isInternal(tsm: Tsm, node: AnyNode): boolean {
  return jsDocsOf(tsm, node).some((d) => d.getTags().some((t: TsMorph.JSDocTag) => t.getTagName() === 'internal'));
}

function dedent(text: string): string {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const indents = lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)?.[0].length ?? 0);
  const cut = indents.length > 0 ? Math.min(...indents) : 0;
  return lines
    .map((l) => l.slice(cut).trimEnd())
    .join('\n')
    .trim();
}

/** The doc comment as markdown: the description, then the tags as a list. */
function docMarkdown(tsm: Tsm, node: AnyNode): string {
  const docs = jsDocsOf(tsm, node);
  const doc = docs[docs.length - 1];
  if (doc === undefined) return '';
  const parts: string[] = [];
  const description = dedent(doc.getDescription());
  if (description !== '') parts.push(links(description));
  const tags: string[] = [];
  for (const tag of doc.getTags()) {
    const name = tag.getTagName();
    const comment = links(dedent(tag.getCommentText() ?? '').replace(/\s*\n\s*/g, ' '));
    if (tsm.Node.isJSDocParameterTag(tag) || tsm.Node.isJSDocPropertyTag(tag)) {
      tags.push(`- \`${tag.getName()}\`${comment !== '' ? `: ${comment.replace(/^-\s*/, '')}` : ''}`);
    } else if (name === 'returns' || name === 'return') {
      tags.push(`- Returns: ${comment}`);
    } else if (name === 'throws') {
      tags.push(`- Throws: ${comment}`);
    } else {
      tags.push(`- @${name}${comment !== '' ? ` ${comment}` : ''}`);
    }
  }
  if (tags.length > 0) parts.push(tags.join('\n'));
  return parts.join('\n\n');
}

function typeText(tsm: Tsm, node: AnyNode & { getTypeNode?: () => AnyNode | undefined }): string {
  const typeNode = node.getTypeNode?.();
  if (typeNode !== undefined) return typeNode.getText();
  return node.getType().getText(node, tsm.TypeFormatFlags.UseAliasDefinedOutsideCurrentScope);
}

function paramsText(tsm: Tsm, params: TsMorph.ParameterDeclaration[]): string {
  return params
    .map((p) => {
      const optional = p.hasQuestionToken() || p.hasInitializer();
      return `${p.isRestParameter() ? '...' : ''}${p.getName()}${optional ? '?' : ''}: ${typeText(tsm, p)}`;
    })
    .join(', ');
}

function typeParamsText(node: { getTypeParameters(): TsMorph.TypeParameterDeclaration[] }): string {
  const tps = node.getTypeParameters();
  return tps.length === 0 ? '' : `<${tps.map((t) => t.getText()).join(', ')}>`;
}

function returnText(
  tsm: Tsm,
  node: TsMorph.FunctionDeclaration | TsMorph.MethodDeclaration | TsMorph.GetAccessorDeclaration,
): string {
  const rt = node.getReturnTypeNode();
  return rt !== undefined ? rt.getText() : node.getReturnType().getText(node, tsm.TypeFormatFlags.UseAliasDefinedOutsideCurrentScope);
}

function modifiersText(node: AnyNode): string {
  const mods: string[] = [];
  const n = node as AnyNode & { isStatic?: () => boolean; isReadonly?: () => boolean; isAbstract?: () => boolean };
  if (n.isStatic?.() === true) mods.push('static');
  if (n.isAbstract?.() === true) mods.push('abstract');
  if (n.isReadonly?.() === true) mods.push('readonly');
  return mods.length > 0 ? `${mods.join(' ')} ` : '';
}

/** One member of a class: its signature, or undefined when it is not public API. */
function classMemberSignature(tsm: Tsm, m: AnyNode, className: string): { name: string; signature: string } | undefined {
  const scoped = m as AnyNode & { getScope?: () => string };
  if (scoped.getScope !== undefined && scoped.getScope() !== 'public') return undefined;
  if (isInternal(tsm, m)) return undefined;
  if (tsm.Node.isConstructorDeclaration(m)) {
    return { name: 'constructor', signature: `new ${className}(${paramsText(tsm, m.getParameters())})` };
  }
  const named = m as AnyNode & { getName?: () => string };
  const name = named.getName?.();
  if (name === undefined || name.startsWith('#')) return undefined;
  if (tsm.Node.isMethodDeclaration(m)) {
    const sigs = m.getOverloads().length > 0 ? m.getOverloads() : [m];
    return {
      name,
      signature: sigs
        .map((s: TsMorph.MethodDeclaration) => `${modifiersText(s)}${s.isAsync() ? 'async ' : ''}${name}${typeParamsText(s)}(${paramsText(tsm, s.getParameters())}): ${returnText(tsm, s)}`)
        .join('\n'),
    };
  }
  if (tsm.Node.isGetAccessorDeclaration(m)) {
    return { name, signature: `${modifiersText(m)}get ${name}(): ${returnText(tsm, m)}` };
  }
  if (tsm.Node.isSetAccessorDeclaration(m)) {
    return { name, signature: `${modifiersText(m)}set ${name}(${paramsText(tsm, m.getParameters())})` };
  }
  if (tsm.Node.isPropertyDeclaration(m)) {
    return { name, signature: `${modifiersText(m)}${name}${m.hasQuestionToken() ? '?' : ''}: ${typeText(tsm, m)}` };
  }
  return undefined;
}

/** Declaration text without `export`/`declare`, the way it would be written in a .d.ts. */
function stripExport(text: string): string {
  return text.replace(/^export\s+(default\s+)?/, '').replace(/^declare\s+/, '');
}

function code(text: string): string {
  return ['```ts', text, '```'].join('\n');
}

/** Renders one exported declaration under `### name`. */
function renderDeclaration(tsm: Tsm, name: string, decl: AnyNode): string {
  const out: string[] = [];
  const push = (kind: string, signature: string | undefined): void => {
    out.push(`*${kind}*`);
    if (signature !== undefined) out.push(code(signature));
    const doc = docMarkdown(tsm, decl);
    if (doc !== '') out.push(doc);
  };

  if (tsm.Node.isFunctionDeclaration(decl)) {
    const sigs = decl.getOverloads().length > 0 ? decl.getOverloads() : [decl];
    push(
      'function',
      sigs
        .map((s: TsMorph.FunctionDeclaration) => `${s.isAsync() ? 'async ' : ''}function ${name}${typeParamsText(s)}(${paramsText(tsm, s.getParameters())}): ${returnText(tsm, s)}`)
        .join('\n'),
    );
  } else if (tsm.Node.isClassDeclaration(decl)) {
    const heritage = decl.getHeritageClauses().map((h: TsMorph.HeritageClause) => h.getText());
    push(decl.isAbstract() ? 'abstract class' : 'class', `class ${name}${typeParamsText(decl)}${heritage.length > 0 ? ` ${heritage.join(' ')}` : ''}`);
    for (const m of decl.getMembers()) {
      const sig = classMemberSignature(tsm, m, name);
      if (sig === undefined) continue;
      out.push(`#### ${name}.${sig.name}`);
      out.push(code(sig.signature));
      const doc = docMarkdown(tsm, m);
      if (doc !== '') out.push(doc);
    }
  } else if (tsm.Node.isInterfaceDeclaration(decl)) {
    const heritage = decl.getExtends().map((e: TsMorph.ExpressionWithTypeArguments) => e.getText());
    const members = decl
      .getMembers()
      .filter((m: AnyNode) => !isInternal(tsm, m))
      .map((m: AnyNode) => {
        const doc = jsDocsOf(tsm, m)
          .map((d) => `/**\n${dedent(d.getInnerText()).split('\n').map((l) => ` * ${l}`.trimEnd()).join('\n')}\n */`)
          .join('\n');
        return `${doc !== '' ? `${doc}\n` : ''}${m.getText()}`
          .split('\n')
          .map((l) => `  ${l}`)
          .join('\n');
      });
    push(
      'interface',
      `interface ${name}${typeParamsText(decl)}${heritage.length > 0 ? ` extends ${heritage.join(', ')}` : ''} {\n${members.join('\n')}\n}`,
    );
  } else if (tsm.Node.isTypeAliasDeclaration(decl)) {
    push('type', stripExport(decl.getText()));
  } else if (tsm.Node.isEnumDeclaration(decl)) {
    push('enum', stripExport(decl.getText()));
  } else if (tsm.Node.isVariableDeclaration(decl)) {
    const kind = decl.getVariableStatement()?.getDeclarationKind() ?? 'const';
    push(kind, `${kind} ${name}: ${typeText(tsm, decl)}`);
  } else if (tsm.Node.isModuleDeclaration(decl)) {
    const names = decl
      .getStatements()
      .map((s: AnyNode) => (s as AnyNode & { getName?: () => string | undefined }).getName?.())
      .filter((n: string | undefined): n is string => typeof n === 'string');
    push('namespace (generated from proto/*.proto)', undefined);
    out.push(`Members: ${[...new Set(names)].map((n) => `\`${n}\``).join(', ')}.`);
  } else {
    push(decl.getKindName(), stripExport(decl.getText()));
  }
  return out.join('\n\n');
}

function anchor(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_-]/g, '');
}

export async function generateApi(tsm: Tsm): Promise<string> {
  const project = new tsm.Project({
    tsConfigFilePath: join(ROOT, 'tsconfig.json'),
    skipAddingFilesFromTsConfig: true,
  });
  const index = project.addSourceFileAtPath(join(ROOT, 'src', 'index.ts'));
  project.resolveSourceFileDependencies();
  const exported = index.getExportedDeclarations();

  // Group the exports by the module they come from, in the order src/index.ts first names each module.
  const groups = new Map<string, string[]>();
  for (const ed of index.getExportDeclarations()) {
    const target = ed.getModuleSpecifierSourceFile();
    const module = target !== undefined ? relative(ROOT, target.getFilePath()).split('\\').join('/') : ed.getModuleSpecifierValue() ?? 'src/index.ts';
    const names = groups.get(module) ?? [];
    for (const ne of ed.getNamedExports()) names.push((ne.getAliasNode() ?? ne.getNameNode()).getText());
    groups.set(module, names);
  }

  const toc: string[] = [];
  const body: string[] = [];
  for (const [module, names] of groups) {
    body.push(`## \`${module}\``);
    toc.push(`- \`${module}\`: ${names.map((n) => `[\`${n}\`](#${anchor(n)})`).join(', ')}`);
    for (const name of names) {
      const decls = exported.get(name) ?? [];
      if (decls.length === 0) throw new Error(`src/index.ts exports ${name}, but ts-morph found no declaration for it`);
      body.push(`### ${name}`);
      for (const decl of decls) body.push(renderDeclaration(tsm, name, decl));
    }
  }
  return [
    '# memberlist-ts API reference',
    '',
    GENERATED_NOTE,
    '',
    'Everything `memberlist-ts` exports (`src/index.ts`), with the doc comments from the source. Generated by',
    '`npm run docs` (`scripts/gen-docs.ts`); `npm run docs -- --check` fails when this file is stale.',
    '',
    toc.join('\n'),
    '',
    body.join('\n\n'),
    '',
  ].join('\n');
}

/** Loads ts-morph, or returns undefined when it is not installed. */
export async function loadTsMorph(): Promise<Tsm | undefined> {
  const specifier = 'ts-morph';
  try {
    return (await import(specifier)) as Tsm;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Main

async function main(argv: readonly string[]): Promise<number> {
  const check = argv.includes('--check');
  const noApi = argv.includes('--no-api');
  const outIdx = argv.indexOf('--out-dir');
  const outDir = outIdx >= 0 ? resolve(argv[outIdx + 1] ?? '.') : ROOT;
  const unknown = argv.filter((a, i) => !['--check', '--no-api', '--out-dir'].includes(a) && !(outIdx >= 0 && i === outIdx + 1));
  if (unknown.length > 0) {
    console.error(`gen-docs: unknown argument ${unknown.join(' ')}; usage: gen-docs.ts [--check] [--no-api] [--out-dir DIR]`);
    return 2;
  }

  const outputs: { path: string; content: string }[] = [];
  const readmePath = join(outDir, 'README.md');
  const configSource = readFileSync(join(ROOT, 'src', 'config.ts'), 'utf8');
  outputs.push({ path: readmePath, content: generateReadme(readFileSync(readmePath, 'utf8'), configSource) });

  if (!noApi) {
    const tsm = await loadTsMorph();
    if (tsm === undefined) {
      console.error('gen-docs: ts-morph is not installed (npm install --save-dev --save-exact ts-morph); use --no-api to skip docs/API.md');
      return 1;
    }
    outputs.push({ path: join(outDir, 'docs', 'API.md'), content: await generateApi(tsm) });
  }

  const stale: string[] = [];
  for (const { path, content } of outputs) {
    const current = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
    if (current === content) continue;
    stale.push(relative(outDir, path));
    if (!check) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content);
    }
  }
  const names = outputs.map((o) => relative(outDir, o.path)).join(', ');
  if (check) {
    if (stale.length > 0) {
      console.error(`gen-docs: stale: ${stale.join(', ')}; run \`npm run docs\` (npx tsx scripts/gen-docs.ts)`);
      return 1;
    }
    console.log(`gen-docs: up to date (${names})${noApi ? '; docs/API.md not checked (--no-api)' : ''}`);
    return 0;
  }
  console.log(stale.length > 0 ? `gen-docs: wrote ${stale.join(', ')}` : `gen-docs: up to date (${names})`);
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`gen-docs: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
