import { GeneratedImage } from 'vite-plugin-generated-images/jsx';
import { TrailCard } from './TrailCard';

export function App() {
  return (
    <main>
      <header className="hero">
        <GeneratedImage
          prompt="Hikers on a ridge trail above a sea of clouds at sunrise, wide landscape, photo"
          ratio="21:9"
          alt="Hikers on a ridge above the clouds"
          className="hero-image"
          loading="eager"
          sizes="100vw"
        />
        <h1>Trailhead</h1>
      </header>
      <section className="cards">
        <TrailCard title="Lakeside loop" km={6}>
          <GeneratedImage prompt="A calm alpine lake with a wooden footbridge, early morning mist" ratio="3:2" alt="Alpine lake with a footbridge" className="card-image" />
        </TrailCard>
        <TrailCard title="Forest steps" km={9}>
          <GeneratedImage prompt={'Moss covered stone steps through an old beech forest'} ratio="3:2" alt="Stone steps in a beech forest" className="card-image" />
        </TrailCard>
      </section>
    </main>
  );
}
