import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FUNCTIONS as REGISTRY } from '../../functions/registry';
import { listZip, MB, type PackageResult, packageService, ROOT, readZipEntry, type ZipEntry } from '../../scripts/packageService';

/**
 * What goes into the Lambda zips. sharp is a native module: each zip must carry sharp's Linux
 * binary for the SELECTED architecture (arm64 by default, x86_64 with --param=arch=x86_64), never
 * the packaging host's. serverless-esbuild's own `npm ci` + `npm prune` install the host's
 * binaries; the `packagerOptions.scripts` step in serverless.yml swaps in the target's.
 */

const LAMBDA_UNZIPPED_LIMIT = 250 * MB;
const sharpVersion = (JSON.parse(readFileSync(path.join(ROOT, 'node_modules', 'sharp', 'package.json'), 'utf8')) as { version: string })
  .version;

interface Packaged {
  result: PackageResult;
  zips: Record<'resize' | 'predict', { file: string; entries: ZipEntry[] }>;
}

const packaged: Partial<Record<'arm64' | 'x86_64', Packaged>> = {};

function load(result: PackageResult): Packaged {
  const zip = (name: 'resize' | 'predict') => {
    const file = path.join(result.dir, `${name}.zip`);
    return { file, entries: listZip(file) };
  };
  return { result, zips: { resize: zip('resize'), predict: zip('predict') } };
}

beforeAll(async () => {
  // One after the other: concurrent runs would share the project's .serverless/ folder.
  const arm64 = await packageService({ stage: 'dev' });
  const x64 = await packageService({ stage: 'dev', arch: 'x86_64' });
  packaged.arm64 = load(arm64);
  packaged.x86_64 = load(x64);
  const summary = Object.entries(packaged).flatMap(([arch, p]) =>
    Object.entries(p!.zips).map(([fn, z]) => {
      const unzipped = z.entries.reduce((sum, e) => sum + e.size, 0);
      const zipped = readFileSync(z.file).length;
      return `${arch} ${fn}: ${(zipped / MB).toFixed(1)} MB zipped, ${(unzipped / MB).toFixed(1)} MB unzipped, ${z.entries.length} files`;
    }),
  );
  console.log(`serverless package arm64 / x86_64: ${arm64.seconds.toFixed(1)} s / ${x64.seconds.toFixed(1)} s\n${summary.join('\n')}`);
}, 300_000);

afterAll(() => {
  packaged.arm64?.result.cleanup();
  packaged.x86_64?.result.cleanup();
});

const names = (entries: ZipEntry[]) => entries.map((e) => e.name);
const unzippedBytes = (entries: ZipEntry[]) => entries.reduce((sum, e) => sum + e.size, 0);

/** Every @img/sharp-* package in a zip (not @img/colour, which is platform-free). */
function sharpPlatformPackages(entries: ZipEntry[]): string[] {
  const packages = new Set<string>();
  for (const name of names(entries)) {
    const match = /^node_modules\/@img\/(sharp-[^/]+)\//.exec(name);
    if (match) packages.add(match[1]);
  }
  return [...packages].sort();
}

describe.each([
  ['arm64', 'arm64'],
  ['x86_64', 'x64'],
] as const)('architecture %s', (arch, cpu) => {
  const get = () => {
    const p = packaged[arch];
    if (!p) throw new Error(`packaging for ${arch} did not run`);
    return p;
  };

  test('the template declares that architecture for every function', () => {
    const { template } = get().result;
    const fns = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(fns).toHaveLength(REGISTRY.length);
    expect(REGISTRY.length).toBeGreaterThanOrEqual(2);
    for (const fn of fns) expect(fn.Properties?.Architectures).toEqual([arch]);
  });

  test(`resize.zip carries sharp ${sharpVersion} with the linux-${cpu} (glibc) binary and libvips, and no other platform's`, () => {
    const { entries } = get().zips.resize;
    const list = names(entries);
    expect(list).toContain('functions/resize/handler.js');
    expect(list).toContain('node_modules/sharp/package.json');
    expect(list).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^node_modules/@img/sharp-linux-${cpu}/lib/sharp-linux-${cpu}[^/]*\\.node$`)),
        expect.stringMatching(new RegExp(`^node_modules/@img/sharp-libvips-linux-${cpu}/lib/libvips-cpp\\.so`)),
      ]),
    );
    expect(sharpPlatformPackages(entries)).toEqual([`sharp-libvips-linux-${cpu}`, `sharp-linux-${cpu}`]);
    const sharpPackage = entries.find((e) => e.name === 'node_modules/sharp/package.json')!;
    const file = get().zips.resize.file;
    expect((JSON.parse(readZipEntry(file, sharpPackage).toString('utf8')) as { version: string }).version).toBe(sharpVersion);
  });

  test('resize.zip is far below Lambda’s 250 MB unzipped limit and holds no model runtime', () => {
    const { file, entries } = get().zips.resize;
    expect(unzippedBytes(entries)).toBeLessThan(100 * MB);
    expect(names(entries).filter((n) => /onnxruntime|tensorflow|tfjs/i.test(n))).toEqual([]);
    const handler = entries.find((e) => e.name === 'functions/resize/handler.js')!;
    const source = readZipEntry(file, handler).toString('utf8');
    // The registry's description of predict (its native module's name) is bundled; the runtime is not.
    expect(source).not.toMatch(/require\(["'](onnxruntime|@tensorflow)/);
    // sharp stays external (a package in node_modules), everything else is bundled and minified.
    expect(source).toMatch(/require\(["']sharp["']\)/);
    expect(
      names(entries).filter((n) => n.startsWith('node_modules/@aws-sdk/') || n.startsWith('node_modules/@aws-lambda-powertools/')),
    ).toEqual([]);
  });

  test('predict.zip has its handler, fits Lambda, and any sharp in it is the same platform', () => {
    const { entries } = get().zips.predict;
    expect(names(entries)).toContain('functions/predict/handler.js');
    expect(unzippedBytes(entries)).toBeLessThan(LAMBDA_UNZIPPED_LIMIT);
    for (const pkg of sharpPlatformPackages(entries)) expect(pkg).toMatch(new RegExp(`-linux-${cpu}$`));
    // onnxruntime-node ships every platform's binaries (~290 MB): only the target's may remain.
    const ortPlatforms = new Set(
      names(entries)
        .map((n) => /^node_modules\/onnxruntime-node\/bin\/napi-v\d+\/([^/]+\/[^/]+)\//.exec(n)?.[1])
        .filter((p): p is string => Boolean(p)),
    );
    expect([...ortPlatforms].filter((p) => p !== `linux/${cpu}`)).toEqual([]);
    // No resize code in the predict zip and vice versa (package.individually).
    expect(names(entries)).not.toContain('functions/resize/handler.js');
    expect(names(get().zips.resize.entries)).not.toContain('functions/predict/handler.js');
  });
});
