package pdfgen

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"os/exec"
	"strconv"
)

// Scan turns the first pages of the PDF in data into an image-only PDF,
// as a scanner would: each page is rendered to grey pixels at dpi with
// poppler's pdftoppm, which must be on PATH, and drawn as one image on a
// page of the same size (w×h points).
func Scan(ctx context.Context, data []byte, pages, dpi int, w, h float64) ([]byte, error) {
	d := &Doc{Width: w, Height: h}
	for i := 1; i <= pages; i++ {
		img, err := Render(ctx, data, i, dpi)
		if err != nil {
			return nil, err
		}
		d.NewPage().Image(img, 0, 0, w, h)
	}
	return d.Bytes(), nil
}

// Render draws page (1-based) of the PDF in data in grey at dpi with
// poppler's pdftoppm.
func Render(ctx context.Context, data []byte, page, dpi int) (*image.Gray, error) {
	p := strconv.Itoa(page)
	cmd := exec.CommandContext(ctx, "pdftoppm", "-r", strconv.Itoa(dpi), "-gray", "-png", "-f", p, "-l", p, "-singlefile", "-")
	cmd.Stdin = bytes.NewReader(data)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("pdftoppm page %d: %w: %s", page, err, stderr.String())
	}
	img, err := png.Decode(&out)
	if err != nil {
		return nil, fmt.Errorf("pdftoppm page %d: %w", page, err)
	}
	if g, ok := img.(*image.Gray); ok {
		return g, nil
	}
	g := image.NewGray(img.Bounds())
	draw.Draw(g, g.Bounds(), img, img.Bounds().Min, draw.Src)
	return g, nil
}

// TextPage adds a letter page holding text wrapped in 12 pt Helvetica,
// from the top-left margin down.
func (d *Doc) TextPage(text string) {
	p := d.NewPage()
	y := 720.0
	for _, l := range Wrap(Regular, 12, 480, text) {
		p.Text(Regular, 12, 72, y, l)
		y -= 16
	}
}

// ScanText renders text laid out as TextPage lays it out, at dpi: the
// page a scanner would see.
func ScanText(ctx context.Context, text string, dpi int) (*image.Gray, error) {
	src := &Doc{}
	src.TextPage(text)
	return Render(ctx, src.Bytes(), 1, dpi)
}
