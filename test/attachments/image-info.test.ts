import t from 'tap'
import { sniffImage } from '../../src/attachments/image-info.js'
import { gif, jpeg, png, webpExtended, webpLossless, webpLossy } from './images.js'

t.test('each format is known by its bytes, with its size', async t => {
  t.same(sniffImage(png(7, 5)), { type: 'image/png', width: 7, height: 5 })
  t.same(sniffImage(gif(300, 2)), { type: 'image/gif', width: 300, height: 2 })
  t.same(sniffImage(jpeg(640, 480)), { type: 'image/jpeg', width: 640, height: 480 })
  t.same(sniffImage(jpeg(33, 44, 60000)), { type: 'image/jpeg', width: 33, height: 44 }, 'after a large EXIF segment')
  t.same(sniffImage(webpLossy(5, 8)), { type: 'image/webp', width: 5, height: 8 })
  t.same(sniffImage(webpLossless(4, 6)), { type: 'image/webp', width: 4, height: 6 })
  t.same(sniffImage(webpExtended(4000, 3000)), { type: 'image/webp', width: 4000, height: 3000 })
})

t.test('anything else is no image, whatever it is called', async t => {
  t.equal(sniffImage(Buffer.from('<!doctype html><script>alert(1)</script>')), null)
  t.equal(sniffImage(Buffer.from('%PDF-1.7\n')), null)
  t.equal(sniffImage(Buffer.alloc(0)), null)
  t.equal(sniffImage(Buffer.from('RIFF\0\0\0\0WAVEfmt ')), null, 'RIFF but not WebP')
})

t.test('a cut-off header is the type without a size', async t => {
  t.same(sniffImage(png(7, 5).subarray(0, 12)), { type: 'image/png' })
  t.same(sniffImage(jpeg(9, 9).subarray(0, 30)), { type: 'image/jpeg' })
  t.same(sniffImage(gif(1, 1).subarray(0, 8)), { type: 'image/gif' })
  t.same(sniffImage(webpLossy(5, 8).subarray(0, 24)), { type: 'image/webp' })
})
