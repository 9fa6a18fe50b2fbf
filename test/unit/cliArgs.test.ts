import { normalizePrefix, parseArgv, parseCommand, parseReplayArgs, parseResizeArgs, parseStartArgs, parseUploadArgs, UsageError } from '../../cli/args';

describe('parseArgv', () => {
  const spec = { out: 'string', wait: 'boolean' } as const;

  test('positionals, --name value, --name=value and boolean flags', () => {
    expect(parseArgv(['a.jpg', '--out', 'dir', 'b.jpg', '--wait'], spec)).toEqual({ positionals: ['a.jpg', 'b.jpg'], options: { out: 'dir', wait: true } });
    expect(parseArgv(['--out=x=y'], spec).options.out).toBe('x=y');
    expect(parseArgv(['--out='], spec).options.out).toBe('');
  });

  test('-- ends the options, so files may look like options', () => {
    expect(parseArgv(['--', '--wait', '-x'], spec)).toEqual({ positionals: ['--wait', '-x'], options: {} });
  });

  test('-h and --help are always understood', () => {
    expect(parseArgv(['-h'], spec).options.help).toBe(true);
    expect(parseArgv(['--help'], {}).options.help).toBe(true);
  });

  test.each([
    [['--nope'], /unknown option --nope/],
    [['-x'], /unknown option -x/],
    [['--out'], /--out needs a value/],
    [['--out', '--wait'], /--out needs a value/],
    [['--wait=yes'], /--wait takes no value/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseArgv(argv, spec)).toThrow(UsageError);
    expect(() => parseArgv(argv, spec)).toThrow(message);
  });

  test('a lone "-" is a positional (stdin by convention)', () => {
    expect(parseArgv(['-'], spec).positionals).toEqual(['-']);
  });
});

describe('parseCommand', () => {
  test.each([[[]], [['help']], [['--help']], [['-h']]])('%j shows help', (argv) => {
    expect(parseCommand(argv).command).toBe('help');
  });

  test('help <command> names a topic', () => {
    expect(parseCommand(['help', 'upload'])).toEqual({ command: 'help', args: [], topic: 'upload' });
  });

  test('passes the rest to the command', () => {
    expect(parseCommand(['upload', 'a.jpg', '--prefix', 'p'])).toEqual({ command: 'upload', args: ['a.jpg', '--prefix', 'p'] });
  });

  test('an unknown command lists the known ones', () => {
    expect(() => parseCommand(['uplaod'])).toThrow(/unknown command "uplaod"; commands: start, upload, replay, resize, help/);
  });
});

describe('upload', () => {
  test('files, prefix as a folder, bucket', () => {
    expect(parseUploadArgs(['a.jpg', 'b.png', '--prefix', 'holiday', '--bucket', 'other'])).toEqual({
      files: ['a.jpg', 'b.png'],
      prefix: 'holiday/',
      bucket: 'other',
      aws: false,
      wait: false,
    });
  });

  test('defaults: no prefix, bucket from the environment or config, local target', () => {
    expect(parseUploadArgs(['a.jpg'])).toEqual({ files: ['a.jpg'], prefix: '', bucket: undefined, aws: false, wait: false });
    expect(parseUploadArgs(['a.jpg', '--aws', '--wait'])).toMatchObject({ aws: true, wait: true });
  });

  test('needs a file; an empty bucket is refused', () => {
    expect(() => parseUploadArgs([])).toThrow(/at least one file/);
    expect(() => parseUploadArgs(['a.jpg', '--bucket='])).toThrow(/--bucket must not be empty/);
  });

  test.each([
    ['', ''],
    ['holiday', 'holiday/'],
    ['holiday/', 'holiday/'],
    ['/holiday/2024', 'holiday/2024/'],
    ['a b+c/', 'a b+c/'],
  ])('prefix %j -> %j', (prefix, normalized) => {
    expect(normalizePrefix(prefix)).toBe(normalized);
  });
});

describe('replay', () => {
  test('one event file, optional function', () => {
    expect(parseReplayArgs(['events/resize-sqs.json'])).toEqual({ eventFile: 'events/resize-sqs.json', functionName: undefined });
    expect(parseReplayArgs(['e.json', '--function', 'predict'])).toEqual({ eventFile: 'e.json', functionName: 'predict' });
    expect(parseReplayArgs(['e.json', '--function=resize']).functionName).toBe('resize');
  });

  test('refuses a missing or extra file and an unknown function', () => {
    expect(() => parseReplayArgs([])).toThrow(/exactly one event file/);
    expect(() => parseReplayArgs(['a.json', 'b.json'])).toThrow(/exactly one event file/);
    expect(() => parseReplayArgs(['a.json', '--function', 'thumbnail'])).toThrow(/--function must be one of resize, predict, got "thumbnail"/);
  });
});

describe('resize', () => {
  test('file and --out; sizes, format and quality optional and validated like the configuration', () => {
    expect(parseResizeArgs(['photo.jpg', '--out', 'out'])).toEqual({ file: 'photo.jpg', outDir: 'out' });
    expect(parseResizeArgs(['photo.jpg', '--out', 'out', '--sizes', '256,512', '--format', 'JPEG', '--quality', '70'])).toEqual({
      file: 'photo.jpg',
      outDir: 'out',
      sizes: [512, 256],
      format: 'jpeg',
      quality: 70,
    });
  });

  test.each([
    [['photo.jpg'], /needs --out/],
    [['--out', 'o'], /exactly one image file/],
    [['a.jpg', 'b.jpg', '--out', 'o'], /exactly one image file/],
    [['a.jpg', '--out', 'o', '--sizes', '256,abc'], /--sizes: expected a whole number/],
    [['a.jpg', '--out', 'o', '--sizes', '256,256'], /--sizes: sizes repeat/],
    [['a.jpg', '--out', 'o', '--format', 'gif'], /--format: expected one of webp, jpeg, avif/],
    [['a.jpg', '--out', 'o', '--quality', '101'], /--quality must be a whole number from 1 to 100/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseResizeArgs(argv)).toThrow(message);
  });
});

describe('start', () => {
  test('takes no arguments', () => {
    expect(parseStartArgs([])).toEqual({});
    expect(parseStartArgs(['--help'])).toEqual({ help: true });
    expect(() => parseStartArgs(['now'])).toThrow(UsageError);
  });
});

describe('help flags inside a command', () => {
  test.each([parseUploadArgs, parseReplayArgs, parseResizeArgs])('%p answers --help without requiring arguments', (parse) => {
    expect(parse(['--help']).help).toBe(true);
  });
});
