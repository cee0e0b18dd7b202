import { InvalidConfig } from './errors.js';

/** Reads a variable the stack sets on the function; a missing one is a packaging mistake. */
export function requiredEnvironment(name: string): string {
  const value = process.env[name];
  if (!value) throw new InvalidConfig(`environment variable ${name} is not set: redeploy the stack (serverless.yml sets it)`);
  return value;
}
