declare const __ASYNCNET_VERSION__: string | undefined;

/** The package version; the build injects it from package.json (`'dev'` when running from source). */
export const VERSION: string = typeof __ASYNCNET_VERSION__ === 'string' ? __ASYNCNET_VERSION__ : 'dev';
