/**
 * Where a call's recording lives. The store keeps the path the recorder reported, relative to
 * DATA_DIR/recordings (an absolute path inside that dir is accepted too). Anything that resolves
 * outside the dir is ignored: a stored path can never make the API serve, or retention delete,
 * another file.
 */
import path from 'node:path';

/** The recordings directory of a data dir. */
export function recordingsDirOf(dataDir: string): string {
  return path.resolve(dataDir, 'recordings');
}

/** The absolute file of a stored recording path, or undefined when there is none or it escapes the dir. */
export function recordingFile(recordingsDir: string, stored: string | null | undefined): string | undefined {
  if (!stored) return undefined;
  const root = path.resolve(recordingsDir);
  const file = path.resolve(root, stored);
  const rel = path.relative(root, file);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return file;
}
