import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import generatedImages from 'vite-plugin-generated-images';

export default defineConfig({
  plugins: [generatedImages({ widths: [480, 960, 1600] }), react()],
});
