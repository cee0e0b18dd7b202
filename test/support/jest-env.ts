// Quiet, deterministic handler output in tests: logs and EMF metrics would flood the test report.
// Tests that assert on metrics turn them back on for their own Metrics instance.
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.AWS_ACCESS_KEY_ID ??= 'testing';
process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
