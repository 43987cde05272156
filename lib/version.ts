/**
 * The version of bftp and of the BFTP protocol it speaks.
 *
 * @module
 */

/** The bftp release. */
export const VERSION = "0.1.0";

/** The BFTP protocol version this build speaks. */
export const PROTOCOL_VERSION = 1;
