/** One command-line argument as the commands' parsers see it. */
export interface CliOption {
  /** the argument as given */
  arg: string;
  /** `--name` of `--name=value`, else the whole argument */
  flag: string;
  /** the part after `=` of `--name=value`, else undefined (for options whose value is optional) */
  inline: string | undefined;
  /** the option's value: the part after `=`, else the next argument (consumed) */
  value(): string;
}

/**
 * The arguments of a command, one at a time, for a `switch (flag)`: `--opt=value` and
 * `--opt value` both work; `value()` takes the next argument when there is no `=`.
 * @throws TypeError from value() when the option is the last argument ("--opt needs a value")
 */
export function* cliOptions(args: readonly string[]): Generator<CliOption, void, void> {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    yield {
      arg,
      flag,
      inline,
      value: () => {
        if (inline !== undefined) return inline;
        const v = args[++i];
        if (v === undefined) throw new TypeError(`${flag} needs a value`);
        return v;
      },
    };
  }
}

/**
 * A command's arguments parsed, or the exit status when there is nothing to run: its help on
 * stdout (status 0) for -h/--help, the parse error and the help on stderr (status 2) for bad
 * arguments.
 */
export function parseCommandArgs<T>(
  command: string,
  help: string,
  parse: (args: string[]) => T | 'help',
  args: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): { args: T } | { status: number } {
  let parsed: T | 'help';
  try {
    parsed = parse(args);
  } catch (e) {
    err.write(`zonescope ${command}: ${(e as Error).message}\n\n${help}`);
    return { status: 2 };
  }
  if (parsed === 'help') {
    out.write(help);
    return { status: 0 };
  }
  return { args: parsed };
}
