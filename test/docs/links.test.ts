import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const repo = fileURLToPath(new URL('../..', import.meta.url));

/** README.md and every page under docs/, as paths relative to the repository. */
async function pages(): Promise<string[]> {
  const docs = (await readdir(join(repo, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
  return ['README.md', ...docs.sort()];
}

/** The lines of `text` outside fenced code blocks, with their numbers. */
function prose(text: string): { line: string; n: number }[] {
  let fenced = false;
  const out: { line: string; n: number }[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.startsWith('```')) fenced = !fenced;
    else if (!fenced) out.push({ line, n: i + 1 });
  });
  return out;
}

/** The anchors GitHub gives the headings of `text`: lower case, punctuation dropped, spaces as `-`, repeats numbered. */
function anchorsOf(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const { line } of prose(text)) {
    const heading = /^#{1,6} (.*)$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const slug = heading.trim().toLowerCase().replace(/[^\p{L}\p{N}_\- ]/gu, '').replace(/ /g, '-');
    const count = seen.get(slug);
    seen.set(slug, (count ?? -1) + 1);
    anchors.add(count === undefined ? slug : `${slug}-${count + 1}`);
  }
  return anchors;
}

interface Link {
  page: string;
  n: number;
  target: string;
}

/** Every inline link `[text](target)` of `page` that stays in the repository (no scheme). */
function linksOf(page: string, text: string): Link[] {
  return prose(text).flatMap(({ line, n }) =>
    [...line.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)\)/g)].map((m) => ({ page, n, target: m[1]! })).filter((l) => !/^[a-z][a-z0-9+.-]*:/i.test(l.target)),
  );
}

describe('README and docs/', () => {
  let texts: Map<string, string>;

  before(async () => {
    texts = new Map();
    for (const page of await pages()) texts.set(page, await readFile(join(repo, page), 'utf8'));
  });

  it('name GitHub anchors as GitHub does', () => {
    const anchors = anchorsOf('# Two commands\n## `POST /webhooks/:source`\n```\n# not a heading\n```\n## Dead letters\n## Dead letters\n## What a message on the service\'s subjects may claim');
    expect([...anchors]).to.deep.equal(['two-commands', 'post-webhookssource', 'dead-letters', 'dead-letters-1', 'what-a-message-on-the-services-subjects-may-claim']);
  });

  it('link only to files that exist and to headings those files have', () => {
    const broken: string[] = [];
    for (const [page, text] of texts) {
      for (const { n, target } of linksOf(page, text)) {
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const file = path === '' ? join(repo, page) : join(repo, dirname(page), decodeURIComponent(path));
        if (!existsSync(file)) {
          broken.push(`${page}:${n} ${target}: no file ${relative(repo, file)}`);
          continue;
        }
        if (anchor === undefined) continue;
        const targetText = texts.get(relative(repo, file));
        if (targetText === undefined) broken.push(`${page}:${n} ${target}: an anchor into a file that is not a page`);
        else if (!anchorsOf(targetText).has(anchor)) broken.push(`${page}:${n} ${target}: no heading #${anchor} in ${relative(repo, file)}`);
      }
    }
    expect(broken).to.deep.equal([]);
  });

  it('are all reachable from README', () => {
    const linked = new Set(linksOf('README.md', texts.get('README.md')!).map((l) => l.target.split('#')[0]));
    expect([...texts.keys()].filter((p) => p.startsWith('docs/') && !linked.has(p))).to.deep.equal([]);
  });
});
