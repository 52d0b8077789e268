// Writing outputs: stdout for `-`, otherwise a temporary file renamed into place, so a reader
// never sees half a file and an interrupted or failed run leaves the old one.
//
// Only regular files are replaced that way. A device, FIFO or terminal (/dev/null,
// /dev/stdout, a named pipe) is written in place: renaming over it would replace the device
// node itself. A symbolic link to a file keeps being a link: its target is replaced.
//
// A file that cannot be written is an input/output error (UsageError: one line, exit 2), not
// a goalloc bug. The message names the file asked for, not its temporary.

import { closeSync, openSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
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
    // Nothing there yet (or unreadable: the temporary's creation reports it).
    return path;
  }
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

export function writeOutput(path: string, text: string | Uint8Array): void {
  if (path === "-") {
    process.stdout.write(text);
    return;
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
 * The outputs of one command: each opened before the work starts, so an unwritable path fails
 * at once, and all removed together when the command fails or is interrupted.
 */
export class OutputSet {
  private readonly opened: StreamOutput[] = [];
  private readonly files = new Set<string>();

  /** Open `path` (undefined: the output was not asked for). Two outputs cannot replace one file. */
  open(path: string | undefined): StreamOutput | null {
    if (path === undefined) return null;
    const file = path === "-" ? null : replaceable(path);
    if (file !== null) {
      const key = resolve(file);
      if (this.files.has(key)) throw new UsageError(`${path} is named by two outputs`);
      this.files.add(key);
    }
    const output = openStreamOutput(path);
    this.opened.push(output);
    return output;
  }

  /** Remove every temporary not yet committed; files already in place stay as they are. */
  abortAll(): void {
    for (const output of this.opened) output.abort();
  }
}

/** Colour on stdout only for a terminal, and never with NO_COLOR set. */
export function stdoutColor(): boolean {
  return process.stdout.isTTY === true && !process.env.NO_COLOR;
}
