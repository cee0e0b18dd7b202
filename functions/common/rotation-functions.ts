// The stack's rotation functions, as serverless.yml names them to the functions that start a rotation
// (their ARNs are what RotateSecret's RotationLambdaARN must be).
import { requiredEnvironment } from '../../shared/environment.js';
import { API_KEY_ROTATION_FUNCTION_VARIABLE, DATABASE_ROTATION_FUNCTION_VARIABLE, type RotationFunctions } from '../../shared/rotate-now.js';

/** Read when a step needs them: a missing variable is a packaging mistake (InvalidConfig). */
export function rotationFunctions(): RotationFunctions {
  return { database: requiredEnvironment(DATABASE_ROTATION_FUNCTION_VARIABLE), apiKeys: requiredEnvironment(API_KEY_ROTATION_FUNCTION_VARIABLE) };
}
