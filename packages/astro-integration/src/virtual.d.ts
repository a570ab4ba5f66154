/** Provided by the integration's Vite plugin: which registered host this build renders through. */
declare module 'virtual:astro-generated-images/host' {
  export const hostId: string;
}
