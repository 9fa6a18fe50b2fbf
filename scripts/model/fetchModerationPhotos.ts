/**
 * `npm run photos`: fetches the real photographs the moderation model is checked on (Debian's
 * wallpaper packages, with apt-get download, into the git-ignored .cache). CI runs it before the
 * tests, so the conversion is verified on 20+ distinct photographs there.
 */
import { distinctPhotographs, fetchModerationPhotos, listModerationPhotos } from './moderationPhotos';

fetchModerationPhotos((line) => console.log(line)).then(
  () => console.log(`${distinctPhotographs(listModerationPhotos())} distinct photographs ready`),
  (error) => {
    console.error(`photos: ${(error as Error).message}`);
    process.exitCode = 1;
  },
);
