import { defineConfig } from 'vite';
import generatedImages from 'vite-plugin-generated-images';

export default defineConfig({
  plugins: [
    generatedImages({
      style: 'soft natural light, muted colours',
    }),
  ],
});
