// Writing outputs: stdout for `-`, otherwise a temporary file renamed into place, so a reader
// never sees half a file and an interrupted or failed run leaves the old one.
//
// Only regular files are replaced that way. A device, FIFO or terminal (/dev/null,
// /dev/stdout, a named pipe) is written in place: renaming over it would replace the device
// node itself. A symbolic link to a file keeps being a link: its target is replaced.
//
// A file that cannot be written is an input/output error (UsageError: one line, exit 2), not
// a goalloc bug. The message names the file asked for, not its temporary.
//
// Before any work, every command checks that no output is one of its inputs or another of its
// outputs (refuseSharedFiles): replacing the trace being replayed, or appending a summary to
// the baseline being read, would destroy the input, even when the command then fails.

import { closeSync, lstatSync, mkdirSync, openSync, readlinkSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { UsageError } from "./errors.js";

/** The temporary that becomes `path`: same directory (rename is atomic only within a file system). */
function temporaryFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
}

/** The file to replace (a link's target), or null when `path` is not a regular file to replace. */
function replaceable(path: string): string | null {
  try {
    return statSync(path).isFile() ? realpathSync(path) : null;
  } catch {
    // Nothing there yet (or unreadable: the temporary's creation reports it). A symlink to
    // nothing is written through, as a shell's `>` does: the link stays and names the new file.
    return danglingTarget(path) ?? path;
  }
}

/** Where a chain of symlinks ending at nothing points (null: `path` is not a symlink). */
function danglingTarget(path: string): string | null {
  let at = path;
  for (let hops = 0; hops < 40; hops++) {
    let link: string;
    try {
      if (!lstatSync(at).isSymbolicLink()) return hops === 0 ? null : at;
      link = readlinkSync(at);
    } catch {
      return hops === 0 ? null : at;
    }
    at = resolve(dirname(at), link);
  }
  return null;
}

/** `cannot write PATH: ENOENT: no such file or directory`, without Node's `, open '...tmp'` tail. */
function writeError(path: string, error: unknown): UsageError {
  const message = error instanceof Error ? error.message.replace(/, \w+ '[^']*'( -> '[^']*')?$/, "") : String(error);
  return new UsageError(`cannot write ${path}: ${message}`);
}

function removeQuietly(tmp: string): void {
  try {
    unlinkSync(tmp);
  } catch {
    // Never created, or already gone.
  }
}

/** Write `path` whole; `createDirectory`: make its missing parent directories first (mkdir -p). */
export function writeOutput(path: string, text: string | Uint8Array, options: { createDirectory?: boolean } = {}): void {
  if (path === "-") {
    process.stdout.write(text);
    return;
  }
  if (options.createDirectory === true) {
    const dir = dirname(path);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      // mkdir -p says EEXIST when the directory's own path is a file, which reads as success.
      if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new UsageError(`cannot write ${path}: ${dir} exists and is not a directory`);
      throw writeError(path, e);
    }
  }
  const file = replaceable(path);
  if (file === null) {
    try {
      writeFileSync(path, text);
    } catch (e) {
      throw writeError(path, e);
    }
    return;
  }
  const tmp = temporaryFor(file);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  } catch (e) {
    removeQuietly(tmp);
    throw writeError(path, e);
  }
}

/** An output written piece by piece: `-` is stdout, a file is a temporary renamed into place at commit. */
export interface StreamOutput {
  write(data: string | Uint8Array): void;
  /** Rename the temporary into place (a no-op for stdout). */
  commit(): void;
  /** Remove the temporary; the file at the path, if any, is left as it was. Safe to repeat. */
  abort(): void;
}

/** Open `path` for writing now (its temporary), so that an unwritable path fails before any work. */
export function openStreamOutput(path: string): StreamOutput {
  if (path === "-") return { write: (data) => void process.stdout.write(data), commit: () => {}, abort: () => {} };
  const file = replaceable(path);
  // In place, commit and abort only close: what a device or pipe got cannot be taken back.
  const replace = file === null ? null : { file, tmp: temporaryFor(file) };
  let fd: number;
  try {
    fd = openSync(replace?.tmp ?? path, "w");
  } catch (e) {
    throw writeError(path, e);
  }
  let open = true;
  const close = (): void => {
    if (open) closeSync(fd);
    open = false;
  };
  return {
    write: (data) => {
      const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
      try {
        for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
      } catch (e) {
        throw writeError(path, e);
      }
    },
    commit: () => {
      try {
        close();
        if (replace !== null) renameSync(replace.tmp, replace.file);
      } catch (e) {
        if (replace !== null) removeQuietly(replace.tmp);
        throw writeError(path, e);
      }
    },
    abort: () => {
      close();
      if (replace !== null) removeQuietly(replace.tmp);
    },
  };
}

/**
 * Write `chunks` in order; after each one `between` runs (a look for Ctrl-C: see interrupt.ts)
 * and returns true to stop there. Returns whether it stopped before the end.
 */
export async function writeChunks(chunks: Iterable<string>, write: (text: string) => void, between: () => Promise<boolean>): Promise<boolean> {
  for (const chunk of chunks) {
    write(chunk);
    if (await between()) return true;
  }
  return false;
}

/**
 * The outputs of one command: each opened before the work starts, so an unwritable path fails
 * at once, and all removed together when the command fails or is interrupted.
 */
export class OutputSet {
  private readonly opened: StreamOutput[] = [];

  /** Open `path` (undefined: the output was not asked for). */
  open(path: string | undefined): StreamOutput | null {
    if (path === undefined) return null;
    const output = openStreamOutput(path);
    this.opened.push(output);
    return output;
  }

  /** Remove every temporary not yet committed; files already in place stay as they are. */
  abortAll(): void {
    for (const output of this.opened) output.abort();
  }
}

/** A file a command reads. */
export interface InputFile {
  /** undefined: not given; `-`: standard input. */
  path: string | undefined;
  /** What a clash calls it: "the trace being read". */
  role: string;
}

/** A file a command writes. */
export interface OutputFile {
  /** The option that names it: "--json". */
  option: string;
  /** undefined: not asked for; `-`: standard output. */
  path: string | undefined;
  /** What a clash with a later output calls it (default: "the file OPTION writes"). */
  role?: string;
}

/**
 * What makes two paths one file: device and inode for an existing regular file, so that a
 * symbolic or hard link to it is the same file; for a path with nothing there yet, the path
 * with its directory resolved. null for standard input or output, and for devices, FIFOs and
 * directories: those are written in place, never replaced (`--json /dev/null` twice is fine).
 */
function fileIdentity(path: string): string | null {
  if (path === "-") return null;
  try {
    const stat = statSync(path, { bigint: true });
    return stat.isFile() ? `${stat.dev}:${stat.ino}` : null;
  } catch {
    const absolute = resolve(path);
    try {
      return join(realpathSync(dirname(absolute)), basename(absolute));
    } catch {
      // No such directory either: writing will fail and say so.
      return absolute;
    }
  }
}

/**
 * Refuse, before the command does anything, an output that is one of its inputs or an earlier
 * output (same path or same file through a link): a usage error naming the option, the path
 * and what the file already is. Outputs are taken in the order given.
 */
export function refuseSharedFiles(inputs: readonly InputFile[], outputs: readonly OutputFile[]): void {
  const taken: { identity: string; role: string }[] = [];
  for (const input of inputs) {
    const identity = input.path === undefined ? null : fileIdentity(input.path);
    if (identity !== null) taken.push({ identity, role: input.role });
  }
  for (const output of outputs) {
    const identity = output.path === undefined ? null : fileIdentity(output.path);
    if (identity === null) continue;
    const clash = taken.find((t) => t.identity === identity);
    if (clash !== undefined) throw new UsageError(`${output.option} ${output.path}: that is ${clash.role}; choose another file`);
    taken.push({ identity, role: output.role ?? `the file ${output.option} writes` });
  }
}

/** Colour on stdout only for a terminal, and never with NO_COLOR set. */
export function stdoutColor(): boolean {
  return process.stdout.isTTY === true && !process.env.NO_COLOR;
}
