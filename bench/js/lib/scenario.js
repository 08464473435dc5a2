'use strict';

/**
 * The contract between the runner and a scenario file. A scenario file calls
 * `defineScenario(module, spec)` where spec is
 *
 *   name     id used on the command line (`--only get-hit`)
 *   title    heading of its table
 *   repeat   true: measured in every round and reported as medians; false: deterministic,
 *            measured once
 *   jobs(ctx)              the list of measurements, each `{ driver, ...params }` (plain JSON)
 *   measure(job, ctx)      runs ONE job in a fresh child process; returns plain JSON
 *   report(done, ctx)      Markdown for the table; `done` is `[{ job, results: [...] }]`
 *
 * `ctx` is `{ quick, drivers }` where drivers are the loaded driver modules picked for the
 * run. When the file is run as a program (by the runner), it reads `{ jobs, quick }` from
 * argv, measures the jobs in order and prints one `RESULT <json>` line per job. A real run
 * passes one job per process; a smoke run (`--quick`) passes all of them to one process.
 */

const { loadDriver } = require('../drivers');

const RESULT_PREFIX = 'RESULT ';

/** True when this process was started by the runner to measure jobs. */
function isChildInvocation() {
  return process.argv[2]?.startsWith('{') === true;
}

function defineScenario(mod, spec) {
  const scenario = { file: mod.filename, repeat: true, ...spec };
  if (require.main === mod && isChildInvocation()) {
    const { jobs, quick } = JSON.parse(process.argv[2]);
    (async () => {
      for (const job of jobs) {
        const driver = job.driver === undefined ? undefined : loadDriver(job.driver);
        const result = await spec.measure(job, { quick, driver });
        process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
      }
    })()
      .catch((error) => {
        process.stderr.write(`${spec.name}: ${error.stack}\n`);
        process.exitCode = 1;
      });
  }
  mod.exports = scenario;
  return scenario;
}

module.exports = { defineScenario, isChildInvocation, RESULT_PREFIX };
