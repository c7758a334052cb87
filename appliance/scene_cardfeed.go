package appliance

import (
	"context"
	"errors"
	"fmt"
	"image"
	"iter"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"tinkerbox/appliance/store"
	"tinkerbox/appliance/web"
	"tinkerbox/drivers/sim"
	"tinkerbox/images/cards"
	"tinkerbox/images/imgdecode"
	"tinkerbox/scenes/cardfeed"
	"tinkerbox/scenes/cardfeed/recog"
	"tinkerbox/scenes/scene"
)

// simStackSize is how many cards the simulator loads at a time; a few of
// them are strangers (not in the catalog) that must end in the reject bin.
const simStackSize = 60

// cardRig is the card feeder scene with what the wiring adds around it: the
// catalog index (reloaded whenever the scene starts, so a `catalog import`
// is picked up) and, in simulation, the virtual card stack.
type cardRig struct {
	*cardfeed.Scene
	store  *store.Store
	index  *indexHolder
	stack  *sim.CardStack // nil on hardware
	camera *sim.Camera
	demo   map[string]cards.Card
	log    func(msg string, args ...any)
	send   func(scene.Event) error // the scene loop's Send
	// seeded closes once the demo catalog is in the store (a few hundred
	// rows, with features hashed at build time: done in the background so
	// the appliance answers at once); seedErr is set before.
	seeded  chan struct{}
	seedErr error

	mu    sync.Mutex
	loads uint64
}

// indexHolder lets the catalog be swapped under a running scene.
type indexHolder struct{ p atomic.Pointer[recog.Index] }

func (h *indexHolder) Identify(frame image.Image) (recog.Match, error) {
	x := h.p.Load()
	if x == nil {
		return recog.Match{}, fmt.Errorf("appliance: no catalog loaded")
	}
	return x.Identify(frame)
}

// cardfeedScene builds the feeder on the servos, the camera and the Enviro
// LEDs; in simulation the feed wheel moves a virtual stack of demo cards
// that the simulated camera shows.
func (a *app) cardfeedScene() (scene.Scene, error) {
	r := &cardRig{store: a.store, index: &indexHolder{}, demo: map[string]cards.Card{}, log: a.log.Info, seeded: make(chan struct{}),
		send: func(ev scene.Event) error {
			if a.loop == nil {
				return errors.New("appliance: no scene loop")
			}
			return a.loop.Send(ev)
		}}
	a.startup.Add(1)
	go func() {
		defer a.startup.Done()
		defer close(r.seeded)
		r.seedErr = seedDemoCatalog(context.Background(), a.store)
	}()
	for _, c := range cards.Demo() {
		r.demo[c.ID] = c
	}
	feed := a.board.Feed
	if sb := a.board.Sim; sb != nil && sb.Feed != nil && sb.Camera != nil {
		st, err := sim.NewCardStack(sb.Feed, &sim.CardStackOpts{
			Face: r.face, Width: a.cfg.Camera.Width, Height: a.cfg.Camera.Height, Sorter: sb.Sorter, Seed: 1,
		})
		if err != nil {
			return nil, err
		}
		r.stack, r.camera, feed = st, sb.Camera, st.Wheel()
	}
	var cam scene.Camera // a nil *demandCamera must stay a nil interface
	if a.camera != nil {
		cam = a.camera
	}
	var light cardfeed.CardLight
	if a.board.CardLight != nil {
		light = a.board.CardLight
	}
	cf := a.cfg.Cardfeed
	o := cardfeed.DefaultOpts()
	o.FeedPulse, o.Settle, o.JamTimeout = cf.FeedPulse.Duration, cf.Settle.Duration, cf.JamTimeout.Duration
	o.EmptyPulses, o.Condition = cf.EmptyPulses, cf.Condition
	o.RejectDir = a.rejectDir()
	o.Log = a.log
	o.Reporter = a.reporter(cardfeed.Name)
	var feedServo, sorter scene.Servo
	if feed != nil {
		feedServo = feed
	}
	if a.board.Sorter != nil {
		sorter = a.board.Sorter
	}
	r.Scene = cardfeed.New(feedServo, sorter, light, cam, r.index, a.store, a.board.Display, a.board.Lights, a.clock, &o)
	r.Scene.SetRules(cardfeed.Rules{Threshold: cf.PriceThreshold})
	return r, nil
}

// Run reloads the catalog, puts the card stack under the simulated camera
// for as long as the scene runs, and runs the feeder.
func (r *cardRig) Run(ctx context.Context, events <-chan scene.Event) error {
	select {
	case <-ctx.Done():
		return nil
	case <-r.seeded:
	}
	if r.seedErr != nil {
		return r.seedErr
	}
	x, source, err := loadIndex(ctx, r.store)
	if err != nil {
		return err
	}
	r.index.p.Store(x)
	r.log("card catalog loaded", "printings", x.Len(), "source", source)
	if r.stack != nil {
		if r.stack.State().Hopper == 0 {
			r.load()
		}
		r.camera.SetPicture(r.stack.Picture)
		defer r.camera.SetPicture(nil)
	}
	return r.Scene.Run(ctx, events)
}

// load puts a shuffled stack of demo cards (and a few strangers) in the
// simulated hopper.
func (r *cardRig) load() {
	r.mu.Lock()
	r.loads++
	rnd := rand.New(rand.NewPCG(r.loads, 11))
	r.mu.Unlock()
	demo := cards.Demo()
	ids := make([]string, 0, simStackSize)
	for i := 0; i < simStackSize; i++ {
		if i%20 == 19 {
			ids = append(ids, fmt.Sprintf("stranger-%d", rnd.IntN(1000)))
			continue
		}
		ids = append(ids, demo[rnd.IntN(len(demo))].ID)
	}
	r.stack.Load(ids...)
}

func (a *app) rejectDir() string { return filepath.Join(a.cfg.Appliance.DataDir, "rejects") }

// Command implements web.CardFeed: "start" or "stop" as a scene command.
func (r *cardRig) Command(name string) error {
	return r.send(scene.Event{Kind: scene.KindCommand, Command: name})
}

// StartStack implements web.CardStackFeed: start, with the number of cards
// the maker loaded, so the scene can tell double feeds.
func (r *cardRig) StartStack(cards int) error {
	return r.send(scene.Event{Kind: scene.KindCommand, Command: "start", Arg: strconv.Itoa(cards)})
}

// Hopper implements web.CardSimHopper: the simulated hopper's count.
func (r *cardRig) Hopper() int {
	if r.stack == nil {
		return 0
	}
	return r.stack.State().Hopper
}

// Inject implements web.CardSim.
func (r *cardRig) Inject(action string) error {
	if r.stack == nil {
		return fmt.Errorf("appliance: no simulated card stack")
	}
	switch action {
	case "jam":
		r.stack.SetJammed(true)
	case "unjam":
		r.stack.SetJammed(false)
	case "double":
		r.stack.DoubleFeed()
	case "load":
		r.load()
	default:
		return fmt.Errorf("unknown action %q: want jam, unjam, double or load", action)
	}
	return nil
}

// face draws a card: demo cards and strangers are rendered; imported cards
// show their reference image when it is a local file.
func (r *cardRig) face(id string) image.Image {
	if c, ok := r.demo[id]; ok {
		return cards.Render(c)
	}
	if n, ok := strings.CutPrefix(id, "stranger-"); ok {
		return cards.Render(cards.Card{Name: "Stranger " + n, Set: "tbx", Number: n, Art: uint64(len(n))<<32 ^ hashString(id)})
	}
	c, err := r.store.CatalogCard(context.Background(), id)
	if err != nil || c.Image == "" || strings.Contains(c.Image, "://") {
		return nil
	}
	// A reference image from an imported catalog: bounded like every decode.
	img, err := imgdecode.ReadFile(c.Image, imgdecode.Photo())
	if err != nil {
		return nil
	}
	return img
}

func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

// mountCardfeed adds the card pages and API. scenes are the built scenes:
// the live feeder is found among them (nil when cardfeed is not configured:
// the collection and exports still work).
func (a *app) mountCardfeed(srv *web.Server, scenes []scene.Scene) {
	var feed web.CardFeed
	var simInj web.CardSim
	faces := func(id string) image.Image {
		if c, ok := demoByID(id); ok {
			return cards.Render(c)
		}
		return nil
	}
	for _, s := range scenes {
		if r, ok := s.(*cardRig); ok {
			feed, faces = r, r.face
			if r.stack != nil {
				simInj = r
			}
		}
	}
	srv.MountCards(feed, a.store, simInj, faces, a.rejectDir())
}

// The page's stack count reaches the scene, and the simulator offers its own.
var (
	_ web.CardStackFeed = (*cardRig)(nil)
	_ web.CardSimHopper = (*cardRig)(nil)
)

func demoByID(id string) (cards.Card, bool) {
	if !strings.HasPrefix(id, "demo-") {
		return cards.Card{}, false
	}
	for _, c := range cards.Demo() {
		if c.ID == id {
			return c, true
		}
	}
	return cards.Card{}, false
}

// seedDemoCatalog puts the demo catalog (with reference features) into an
// empty catalog, so the simulator and a fresh appliance recognise the demo
// cards out of the box. Demo printings hashed by another recogniser version
// are hashed again: there is no reference image to download for them.
func seedDemoCatalog(ctx context.Context, st *store.Store) error {
	all, _, err := st.CatalogSize(ctx)
	if err != nil {
		return err
	}
	if all > 0 {
		c, err := st.CatalogCard(ctx, cards.Demo()[0].ID)
		if errors.Is(err, store.ErrNoCard) {
			return nil // a real catalog
		}
		if err != nil {
			return err
		}
		if _, err := recog.DecodeFeatures(c.Features); err == nil {
			return nil
		}
	}
	_, err = st.ImportCatalog(ctx, demoCatalog(), nil)
	return err
}

func demoCatalog() iter.Seq2[store.CatalogCard, error] {
	return func(yield func(store.CatalogCard, error) bool) {
		built := demoFeatures() // hashed at build time
		for _, c := range cards.Demo() {
			f, ok := built[c.ID]
			if !ok {
				f = demoFace(c)
			}
			cc := store.CatalogCard{ID: c.ID, Name: c.Name, Set: c.Set, Number: c.Number, Lang: "en",
				Finishes: []string{"nonfoil"}, USD: c.Price, USDFoil: c.FoilPrice, Features: f}
			if c.FoilPrice > 0 {
				cc.Finishes = append(cc.Finishes, "foil")
			}
			if !yield(cc, nil) {
				return
			}
		}
	}
}

// loadIndex builds the recognition index from the catalog's hashed
// printings, or from the demo catalog when none has usable features.
// Printings whose features come from another recogniser version (or only
// have the first recogniser's hash) are skipped and counted in the source:
// comparing them would give confident wrong answers.
func loadIndex(ctx context.Context, st *store.Store) (*recog.Index, string, error) {
	var es []recog.Entry
	stale := 0
	for c, err := range st.CatalogCards(ctx, true) {
		if err != nil {
			return nil, "", err
		}
		f, err := recog.DecodeFeatures(c.Features)
		if err != nil {
			stale++
			continue
		}
		es = append(es, recog.Entry{ID: c.ID, Name: c.Name, Set: c.Set, Number: c.Number, Price: c.USD, Features: f})
	}
	legacy, err := st.CatalogLegacy(ctx)
	if err != nil {
		return nil, "", err
	}
	var again string
	if n := stale + legacy; n > 0 {
		again = fmt.Sprintf("; %d printings need hashing again (tinkerbox catalog images)", n)
	}
	if len(es) > 0 {
		return recog.NewIndex(es, nil), "catalog" + again, nil
	}
	for c, err := range demoCatalog() {
		if err != nil {
			return nil, "", err
		}
		f, err := recog.DecodeFeatures(c.Features)
		if err != nil {
			return nil, "", fmt.Errorf("appliance: demo card %s: %w", c.ID, err)
		}
		es = append(es, recog.Entry{ID: c.ID, Name: c.Name, Set: c.Set, Number: c.Number, Price: c.USD, Features: f})
	}
	return recog.NewIndex(es, nil), "demo catalog (no printing in the catalog has usable features" + again + ")", nil
}
