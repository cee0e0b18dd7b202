// Bundled in place of @aws-sdk/credential-provider-node (see the esbuild alias in serverless.yml).
// In Lambda the execution role's credentials are always in the environment, so the SDK's full
// provider chain (profiles, SSO, login, IMDS, ...) is dead weight: about 80 KB of every bundle and
// part of every cold start.
import { fromEnv } from '@aws-sdk/credential-provider-env';

export const defaultProvider = fromEnv;
