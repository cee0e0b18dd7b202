// What every handler shares: one logger and one metrics emitter per container, and the middy stack
// that attaches the Lambda context to logs and logs a failure once with its name before it reaches
// Step Functions (where `error.name` drives Retry/Catch). Metrics are emitted as single EMF lines
// when a report is published (shared/metrics.ts), so no step has a buffer to flush.
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { METRICS_NAMESPACE } from '../../shared/metrics.js';

export const logger = new Logger({ serviceName: 'frontier-dr' });
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'frontier-dr' });

const logFailure = (): middy.MiddlewareObj => ({
  onError: async (request) => {
    const error = request.error;
    // Name and message only: causes can carry SDK responses, and nothing secret belongs in logs.
    logger.error('step failed', { errorName: error?.name, errorMessage: error?.message });
  },
});

export function recoveryHandler<TEvent, TResult>(work: (event: TEvent, context: Context) => Promise<TResult>) {
  return middy<TEvent, TResult>(work)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logFailure());
}
