import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../shared/config';
import { PermanentError } from '../../shared/errors';
import { renderThumbnails } from '../../shared/image/thumbnails';
import type { ResizeArgs } from '../args';
import { EXIT, reportFailure } from '../errors';
import { type Output, rejectionResult } from '../output';

/** The image is one the pipeline rejects (a permanent failure): resize and predict print why as JSON. */
export const EXIT_REJECTED = EXIT.rejected;

/**
 * `pipeline resize`: the exact image code the resize function runs, on a local file. The defaults
 * (sizes, format, quality, limits) are the pipeline's configuration, so the result is what an upload would produce.
 * Exit codes: 0 written, 2 image rejected, 1 any other failure.
 */
export async function runResize(args: ResizeArgs, output: Output): Promise<number> {
  const config = loadConfig();
  const thumbnails = {
    sizes: args.sizes ?? config.thumbnails.sizes,
    format: args.format ?? config.thumbnails.format,
    quality: args.quality ?? config.thumbnails.quality,
  };
  let input: Buffer;
  try {
    input = await readFile(args.file);
  } catch (error) {
    reportFailure(output, 'resize', error, `cannot read ${args.file}`);
    return EXIT.failed;
  }
  try {
    const rendered = await renderThumbnails(input, thumbnails, config.limits);
    const name = path.basename(args.file);
    const outputs = [];
    for (const thumbnail of [...rendered.thumbnails].sort((a, b) => a.size - b.size)) {
      const file = path.join(args.outDir, String(thumbnail.size), `${name}.${thumbnail.format}`);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, thumbnail.data);
      outputs.push({
        size: thumbnail.size,
        width: thumbnail.width,
        height: thumbnail.height,
        format: thumbnail.format,
        contentType: thumbnail.contentType,
        path: file,
        bytes: thumbnail.data.length,
      });
    }
    const { source } = rendered;
    output.out(
      JSON.stringify({
        ok: true,
        source: {
          path: args.file,
          bytes: input.length,
          format: source.format,
          width: source.width,
          height: source.height,
          frames: source.frames,
        },
        outputs,
      }),
    );
    return EXIT.ok;
  } catch (error) {
    if (error instanceof PermanentError) {
      output.out(JSON.stringify(rejectionResult({ path: args.file, bytes: input.length }, error)));
      return EXIT_REJECTED;
    }
    reportFailure(output, 'resize', error, `${args.file} could not be processed`);
    return EXIT.failed;
  }
}
