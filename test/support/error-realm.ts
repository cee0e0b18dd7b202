// Jest runs a test file in a VM context whose `Error` is not the one Node's own modules (http, net)
// create their errors with. The AWS SDK's retry middleware keeps an error only when
// `error instanceof Error`; a socket error from the other realm it replaces with
// `new Error("AWS SDK error wrapper for ...")`, dropping its `code`, so a refused region would read as
// an unknown failure under jest and only there. In Lambda and in the drill (one realm) the original
// error arrives.

/**
 * Makes `instanceof Error` accept errors from Node's realm, as Lambda and the drill see them. Only
 * `Error` itself does: the check is inherited by every subclass (RecoveryError, AwsTransientError...),
 * which must keep their own. Returns the function that undoes it.
 */
export function acceptErrorsFromNodeRealm(): () => void {
  const ownCheck = Object.getOwnPropertyDescriptor(Error, Symbol.hasInstance);
  Object.defineProperty(Error, Symbol.hasInstance, {
    configurable: true,
    value: function (this: unknown, value: unknown) {
      return Function.prototype[Symbol.hasInstance].call(this, value) || (this === Error && Object.prototype.toString.call(value) === '[object Error]');
    },
  });
  return () => {
    if (ownCheck) Object.defineProperty(Error, Symbol.hasInstance, ownCheck);
    else delete (Error as unknown as Record<symbol, unknown>)[Symbol.hasInstance];
  };
}
