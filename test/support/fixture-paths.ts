/**
 * Where the real Tracy recordings are read from. The small ones (small, small-default,
 * small-ondemand, medium and their truth files: test/fixtures/tracy/README.md) are copied into
 * the repository, so a plain clone runs the interop tests; everything else (the 20 MB stress
 * stream, the csvexport dumps of tens of MB, the .tracy files) is read in place from
 * ../shared/fixtures/tracy beside the checkout, and the tests needing it skip when it is absent.
 * Only tests import this file (test/ is not part of the build).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** test/fixtures/tracy/ in this repository. */
export const LOCAL_TRACY_FIXTURES = fileURLToPath(new URL('../fixtures/tracy/', import.meta.url));
/** ../shared/fixtures/tracy/ beside the checkout. */
export const SHARED_TRACY_FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/tracy/', import.meta.url));
/** ../shared/fixtures/ beside the checkout (the Chrome trace corpus lives there only). */
export const SHARED_FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/', import.meta.url));

/** The path of a Tracy fixture file (`small.client.bin`, `chrome/basic.json`): the repository's copy when there, else the shared one. */
export function tracyFixturePath(name: string): string {
  const local = LOCAL_TRACY_FIXTURES + name;
  return existsSync(local) ? local : SHARED_TRACY_FIXTURES + name;
}
