/** The version of es, as `es --version` prints it and HELLO announces it. */
export const VERSION = "0.2.0";
