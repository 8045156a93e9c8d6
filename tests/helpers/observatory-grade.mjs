// Grades one page of a local server with the MDN HTTP Observatory's own modules, printed as JSON:
//   node observatory-grade.mjs <hostname> <https port> <http port> <path>
//
// Run in a child process whose NODE_EXTRA_CA_CERTS names the server's certificate (Node reads it
// only at start), so the scanner verifies the certificate as it would a public one.
//
// Why not only the published scanner (`mdn-http-observatory-scan <host>`, its src/scan.js): it
// takes a host name and always fetches "/" on ports 80 and 443, and it refuses to grade a page
// answered with a status other than 2xx, 3xx, 401 or 403 (so never a 404). Its retriever
// (src/retriever/retriever.js) takes the ports and the path as options; the ten tests and the
// score are the package's own (ALL_TESTS, the grader), summed the way its scanner sums them
// (src/scanner/index.js). tests/integration/observatory.test.mjs checks that this gives the same
// grade, score and test results as the published scanner on the page both can grade.
import { retrieve } from '@mdn/mdn-http-observatory/src/retriever/retriever.js';
import { ALL_TESTS } from '@mdn/mdn-http-observatory/src/constants.js';
import { MINIMUM_SCORE_FOR_EXTRA_CREDIT } from '@mdn/mdn-http-observatory/src/grader/charts.js';
import { getGradeForScore, getScoreModifier } from '@mdn/mdn-http-observatory/src/grader/grader.js';

const [hostname, httpsPort, httpPort, pagePath] = process.argv.slice(2);
const requests = await retrieve(hostname, { httpsPort, httpPort, path: pagePath });
if (!requests.responses.auto) {
  console.log(JSON.stringify({ error: 'no answer from the server' }));
  process.exit(1);
}
const tests = {};
let withExtraCredit = 100;
let uncurved = 100;
let passed = 0;
for (const test of ALL_TESTS) {
  const output = test(requests);
  // Each output class names its test (a static `name`, e.g. "redirection").
  const { scoreDescription, ...result } = output;
  result.scoreModifier = getScoreModifier(result.result);
  withExtraCredit += result.scoreModifier;
  if (result.scoreModifier < 0) uncurved += result.scoreModifier;
  if (result.pass) passed += 1;
  tests[output.constructor.name] = result;
}
const { grade, score } = getGradeForScore(uncurved >= MINIMUM_SCORE_FOR_EXTRA_CREDIT ? withExtraCredit : uncurved);
console.log(JSON.stringify({
  scan: {
    grade,
    score,
    statusCode: requests.responses.auto.status,
    verified: requests.responses.auto.verified,
    testsPassed: passed,
    testsFailed: ALL_TESTS.length - passed,
    testsQuantity: ALL_TESTS.length,
  },
  tests,
}));
