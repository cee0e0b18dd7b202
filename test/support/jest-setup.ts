// Adds the aws-sdk-client-mock matchers (toHaveReceivedCommandWith, ...) to every test file.
import 'aws-sdk-client-mock-jest';
