import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { publicPackages } from '../../../scripts/workspace.mjs';
import { buildReports, readReport, reportPath } from './api-report.mjs';

// One compiler program for all packages (~3 s), shared by every case.
const { reports, problems } = buildReports();
const update = process.env.UPDATE_API === '1';

describe('api report', () => {
  it('publishes declarations that resolve (no public declaration names a stripped @internal one)', () => {
    expect(problems).toEqual([]);
  });

  for (const pkg of publicPackages()) {
    it(`matches ${pkg.dir}/api.md (update with \`pnpm api:update\` or UPDATE_API=1)`, () => {
      const current = reports.get(pkg.dir);
      if (update && current !== undefined) writeFileSync(reportPath(pkg.dir), current);
      // A plain equality check: the diff vitest prints is the change to the public surface.
      expect(current).toBe(readReport(pkg.dir));
    });
  }
});
